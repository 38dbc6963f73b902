"""Process configuration, read once from the environment.

Every setting has a default that works on a developer machine; README.md lists them.
Each field names its environment variable, so a Settings can be handed to a child
process as an environment (`to_env`).
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

PROJECT_ROOT = Path(__file__).resolve().parent.parent
SERVICE_DATABASES = ("booking", "inventory", "payment", "saga", "notification")


def _setting(env: str, default: Any, cast: Callable[[str], Any] = str) -> Any:
    return dataclasses.field(
        default_factory=lambda: cast(os.environ[env]) if env in os.environ else default,
        metadata={"env": env},
    )


@dataclass(frozen=True)
class Settings:
    """Everything a Tessera process needs to find its peers and tune itself."""

    home: Path = _setting("TESSERA_HOME", PROJECT_ROOT / ".tessera", Path)
    kafka_port: int = _setting("TESSERA_KAFKA_PORT", 19092, int)
    kafka_controller_port: int = _setting("TESSERA_KAFKA_CONTROLLER_PORT", 19093, int)
    kafka_heap: str = _setting("TESSERA_KAFKA_HEAP", "1G")
    postgres_port: int = _setting("TESSERA_POSTGRES_PORT", 15432, int)
    postgres_user: str = _setting("TESSERA_POSTGRES_USER", "tessera")
    redis_port: int = _setting("TESSERA_REDIS_PORT", 16379, int)
    ingress_port: int = _setting("TESSERA_INGRESS_PORT", 18080, int)
    ops_port: int = _setting("TESSERA_OPS_PORT", 18081, int)
    # Several instances of one role on one machine: own metrics port and state directory.
    instance: int = _setting("TESSERA_INSTANCE", 1, int)
    topic_prefix: str = _setting("TESSERA_TOPIC_PREFIX", "")
    topic_partitions: int = _setting("TESSERA_TOPIC_PARTITIONS", 12, int)
    commit_interval_s: float = _setting("TESSERA_COMMIT_INTERVAL_S", 0.1, float)
    # a drained input commits early, but not sooner than this after the last commit
    commit_min_interval_s: float = _setting("TESSERA_COMMIT_MIN_INTERVAL_S", 0.02, float)
    # linger of the exactly-once producers: larger batches for the broker, a slower flush
    # at each commit (load/bench_pipeline.py measures both ends; README "Performance")
    eos_linger_ms: int = _setting("TESSERA_EOS_LINGER_MS", 10, int)
    hold_ttl_s: int = _setting("TESSERA_HOLD_TTL_S", 600, int)
    step_timeout_s: int = _setting("TESSERA_STEP_TIMEOUT_S", 30, int)
    gateway: str = _setting("TESSERA_GATEWAY", "simulated")
    gateway_timeout_s: float = _setting("TESSERA_GATEWAY_TIMEOUT_S", 5.0, float)
    gateway_attempts: int = _setting("TESSERA_GATEWAY_ATTEMPTS", 3, int)
    gateway_bulkhead: int = _setting("TESSERA_GATEWAY_BULKHEAD", 10, int)
    gateway_url: str = _setting("TESSERA_GATEWAY_URL", "http://127.0.0.1:18090")
    stripe_api_base: str = _setting("TESSERA_STRIPE_API_BASE", "http://127.0.0.1:12111")
    stripe_api_key: str = _setting("TESSERA_STRIPE_API_KEY", "sk_test_123")

    def topic(self, name: str) -> str:
        """The broker-side name of a registry topic (tests isolate themselves by prefix)."""
        return self.topic_prefix + name

    @property
    def kafka_bootstrap(self) -> str:
        return os.environ.get("TESSERA_KAFKA_BOOTSTRAP", f"127.0.0.1:{self.kafka_port}")

    @property
    def redis_url(self) -> str:
        return os.environ.get("TESSERA_REDIS_URL", f"redis://127.0.0.1:{self.redis_port}/0")

    def postgres_dsn(self, service: str) -> str:
        """DSN of one service's database; TESSERA_PG_DSN_<SERVICE> overrides it."""
        override = os.environ.get(f"TESSERA_PG_DSN_{service.upper()}")
        if override:
            return override
        return f"postgresql://{self.postgres_user}@127.0.0.1:{self.postgres_port}/tessera_{service}"

    def to_env(self) -> dict[str, str]:
        """These settings as environment variables, for a child process."""
        return {
            f.metadata["env"]: str(getattr(self, f.name))
            for f in dataclasses.fields(self)
            if "env" in f.metadata
        }

    def state_dir(self, role: str) -> Path:
        """Local state of one process (RocksDB): per topic prefix, role and instance."""
        return (
            self.data_dir / "state" / (self.topic_prefix or "default") / f"{role}-{self.instance}"
        )

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
