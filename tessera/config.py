"""Process configuration, read once from the environment.

Every setting has a default that works on a developer machine; README.md lists them.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent
SERVICE_DATABASES = ("booking", "inventory", "payment", "saga", "notification")


def _env(name: str, default: str) -> str:
    return os.environ.get(name, default)


def _env_int(name: str, default: int) -> int:
    return int(os.environ.get(name, str(default)))


def _env_float(name: str, default: float) -> float:
    return float(os.environ.get(name, str(default)))


@dataclass(frozen=True)
class Settings:
    """Everything a Tessera process needs to find its peers."""

    home: Path = field(
        default_factory=lambda: Path(_env("TESSERA_HOME", str(PROJECT_ROOT / ".tessera")))
    )
    kafka_port: int = field(default_factory=lambda: _env_int("TESSERA_KAFKA_PORT", 19092))
    kafka_controller_port: int = field(
        default_factory=lambda: _env_int("TESSERA_KAFKA_CONTROLLER_PORT", 19093)
    )
    kafka_heap: str = field(default_factory=lambda: _env("TESSERA_KAFKA_HEAP", "1G"))
    postgres_port: int = field(default_factory=lambda: _env_int("TESSERA_POSTGRES_PORT", 15432))
    postgres_user: str = field(default_factory=lambda: _env("TESSERA_POSTGRES_USER", "tessera"))
    redis_port: int = field(default_factory=lambda: _env_int("TESSERA_REDIS_PORT", 16379))
    ingress_port: int = field(default_factory=lambda: _env_int("TESSERA_INGRESS_PORT", 18080))
    ops_port: int = field(default_factory=lambda: _env_int("TESSERA_OPS_PORT", 18081))
    topic_prefix: str = field(default_factory=lambda: _env("TESSERA_TOPIC_PREFIX", ""))
    topic_partitions: int = field(default_factory=lambda: _env_int("TESSERA_TOPIC_PARTITIONS", 12))
    commit_interval_s: float = field(
        default_factory=lambda: _env_float("TESSERA_COMMIT_INTERVAL_S", 0.1)
    )
    hold_ttl_s: int = field(default_factory=lambda: _env_int("TESSERA_HOLD_TTL_S", 600))
    step_timeout_s: int = field(default_factory=lambda: _env_int("TESSERA_STEP_TIMEOUT_S", 30))
    gateway: str = field(default_factory=lambda: _env("TESSERA_GATEWAY", "simulated"))
    gateway_url: str = field(
        default_factory=lambda: _env("TESSERA_GATEWAY_URL", "http://127.0.0.1:18090")
    )
    stripe_api_base: str = field(
        default_factory=lambda: _env("TESSERA_STRIPE_API_BASE", "http://127.0.0.1:12111")
    )
    stripe_api_key: str = field(
        default_factory=lambda: _env("TESSERA_STRIPE_API_KEY", "sk_test_123")
    )

    def topic(self, name: str) -> str:
        """The broker-side name of a registry topic (tests isolate themselves by prefix)."""
        return self.topic_prefix + name

    @property
    def kafka_bootstrap(self) -> str:
        return _env("TESSERA_KAFKA_BOOTSTRAP", f"127.0.0.1:{self.kafka_port}")

    @property
    def redis_url(self) -> str:
        return _env("TESSERA_REDIS_URL", f"redis://127.0.0.1:{self.redis_port}/0")

    def postgres_dsn(self, service: str) -> str:
        """DSN of one service's database; TESSERA_PG_DSN_<SERVICE> overrides it."""
        override = os.environ.get(f"TESSERA_PG_DSN_{service.upper()}")
        if override:
            return override
        return f"postgresql://{self.postgres_user}@127.0.0.1:{self.postgres_port}/tessera_{service}"

    @property
    def run_dir(self) -> Path:
        return self.home / "run"

    @property
    def log_dir(self) -> Path:
        return self.home / "logs"

    @property
    def data_dir(self) -> Path:
        return self.home / "data"


def load_settings() -> Settings:
    return Settings()
