"""Ingress configuration: frozen dataclasses built once from Settings and the environment.

| variable | default | meaning |
|---|---|---|
| TESSERA_INGRESS_HOST | 127.0.0.1 | bind address (0.0.0.0 behind a load balancer) |
| TESSERA_INGRESS_WORKERS | 1 | granian worker processes |
| TESSERA_INGRESS_USER_RATE / _IP_RATE | 100 / 10000 | requests per period per user / per IP |
| TESSERA_INGRESS_RATE_PERIOD_S | 60 | rate-limit period |
| TESSERA_INGRESS_HOLDS_CAP | 5 | PENDING bookings one user may have open |
| TESSERA_INGRESS_MAX_BODY | 16384 | request body limit in bytes (413 above) |
| TESSERA_INGRESS_TRUST_FORWARDED | 0 | take the client IP from X-Forwarded-For (behind a proxy) |
| TESSERA_INGRESS_SWITCH_INTERVAL_MS | 0.5 | the worker's GIL switch interval (app.py says why) |
| TESSERA_INGRESS_SSE_HEARTBEAT_S | 15 | comment line interval on idle event streams |
| TESSERA_INGRESS_KAFKA_TIMEOUT_MS | 10000 | produce -> ack deadline (503 after it) |
| TESSERA_INGRESS_KAFKA_LINGER_MS | 1 | producer batching delay (adds to every answer) |
| TESSERA_INGRESS_KAFKA_ACK_POLL_MS | 1 | delivery-report polling while acks are awaited |
| TESSERA_INGRESS_KAFKA_THREADS | batch | librdkafka threads: batch (no loop preemption) or normal |
| TESSERA_INGRESS_SOLD_OUT_GATE | 1 | 409 SOLD_OUT at admission when cached stock cannot cover it |
| TESSERA_JWKS | $TESSERA_HOME/keys/jwks.json | JWKS file path or http(s) URL |
| TESSERA_JWT_ISSUER / TESSERA_JWT_AUDIENCE | tessera-dev / tessera-api | required iss / aud |
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Literal, get_args

from tessera.config import Settings

ThreadPolicy = Literal["batch", "normal"]

# Fixed list, never taken from the token: asymmetric algorithms only.
ALLOWED_ALGORITHMS = ("RS256", "ES256")


def _int(name: str, default: int) -> int:
    return int(os.environ.get(name, str(default)))


def _float(name: str, default: float) -> float:
    return float(os.environ.get(name, str(default)))


def switch_interval_ms() -> float:
    """The worker's GIL switch interval (TESSERA_INGRESS_SWITCH_INTERVAL_MS)."""
    return _float("TESSERA_INGRESS_SWITCH_INTERVAL_MS", IngressConfig.switch_interval_ms)


def _thread_policy(value: str) -> ThreadPolicy:
    if value not in get_args(ThreadPolicy):
        raise ValueError(f"TESSERA_INGRESS_KAFKA_THREADS: {value!r} is not batch or normal")
    return value  # type: ignore[return-value]


@dataclass(frozen=True)
class AuthConfig:
    jwks_source: str
    issuer: str = "tessera-dev"
    audience: str = "tessera-api"
    leeway_s: int = 5
    jwks_max_age_s: float = 300.0  # periodic refresh: a rotated-out kid stops working
    jwks_min_refresh_s: float = 10.0  # an unknown kid triggers at most one reload per interval
    token_cache_size: int = 10_000  # verified tokens kept until their exp (cleared on reload)

    @classmethod
    def from_env(cls, settings: Settings) -> AuthConfig:
        return cls(
            jwks_source=os.environ.get("TESSERA_JWKS", str(settings.home / "keys" / "jwks.json")),
            issuer=os.environ.get("TESSERA_JWT_ISSUER", "tessera-dev"),
            audience=os.environ.get("TESSERA_JWT_AUDIENCE", "tessera-api"),
            jwks_max_age_s=_float("TESSERA_JWKS_MAX_AGE_S", 300.0),
            jwks_min_refresh_s=_float("TESSERA_JWKS_MIN_REFRESH_S", 10.0),
        )


@dataclass(frozen=True)
class LimitsConfig:
    user_rate: int = 100
    ip_rate: int = 10_000
    rate_period_s: float = 60.0
    holds_cap: int = 5
    max_body_bytes: int = 16 * 1024
    idempotency_ttl_s: int = 24 * 3600
    idempotency_wait_s: float = 20.0  # how long a duplicate waits for the first request
    # answer 409 SOLD_OUT at admission when the availability cache says the item cannot
    # cover the quantity (never accepts anything the ledger would refuse; see admission.py)
    sold_out_gate: bool = True

    @classmethod
    def from_env(cls) -> LimitsConfig:
        return cls(
            user_rate=_int("TESSERA_INGRESS_USER_RATE", 100),
            ip_rate=_int("TESSERA_INGRESS_IP_RATE", 10_000),
            rate_period_s=_float("TESSERA_INGRESS_RATE_PERIOD_S", 60.0),
            holds_cap=_int("TESSERA_INGRESS_HOLDS_CAP", 5),
            max_body_bytes=_int("TESSERA_INGRESS_MAX_BODY", 16 * 1024),
            sold_out_gate=os.environ.get("TESSERA_INGRESS_SOLD_OUT_GATE", "1") == "1",
        )


@dataclass(frozen=True)
class BackendConfig:
    redis_socket_timeout_s: float = 0.5
    redis_connect_timeout_s: float = 0.5
    redis_retries: int = 1  # one quick retry; redis-py's default retries ~4 s on refused
    redis_down_for_s: float = 1.0  # after a connection failure skip Redis this long
    redis_max_connections: int = 1024
    pg_pool_max: int = 4
    pg_timeout_s: float = 2.0
    kafka_delivery_timeout_ms: int = 10_000
    kafka_linger_ms: int = 1
    # delivery reports are polled on the event loop this often while a record awaits its
    # ack (and at each produce: under load acks are found there): sooner answers cost idle
    # polls and smaller produce batches (more CPU per record)
    kafka_ack_poll_ms: float = 1.0
    # librdkafka's threads as SCHED_BATCH: they stop preempting the event loop on every
    # wake-up (client_threads.py); "normal" leaves the default policy
    kafka_client_threads: ThreadPolicy = "batch"
    sse_heartbeat_s: float = 15.0
    sse_max_duration_s: float = 3600.0

    @classmethod
    def from_env(cls) -> BackendConfig:
        return cls(
            kafka_delivery_timeout_ms=_int("TESSERA_INGRESS_KAFKA_TIMEOUT_MS", 10_000),
            kafka_linger_ms=_int("TESSERA_INGRESS_KAFKA_LINGER_MS", 1),
            kafka_ack_poll_ms=_float("TESSERA_INGRESS_KAFKA_ACK_POLL_MS", 1.0),
            kafka_client_threads=_thread_policy(
                os.environ.get("TESSERA_INGRESS_KAFKA_THREADS", "batch")
            ),
            sse_heartbeat_s=_float("TESSERA_INGRESS_SSE_HEARTBEAT_S", 15.0),
        )


@dataclass(frozen=True)
class IngressConfig:
    auth: AuthConfig
    limits: LimitsConfig = field(default_factory=LimitsConfig)
    backend: BackendConfig = field(default_factory=BackendConfig)
    host: str = "127.0.0.1"
    workers: int = 1
    trust_forwarded: bool = False
    switch_interval_ms: float = 0.5

    @classmethod
    def from_env(cls, settings: Settings) -> IngressConfig:
        return cls(
            auth=AuthConfig.from_env(settings),
            limits=LimitsConfig.from_env(),
            backend=BackendConfig.from_env(),
            host=os.environ.get("TESSERA_INGRESS_HOST", "127.0.0.1"),
            workers=_int("TESSERA_INGRESS_WORKERS", 1),
            trust_forwarded=os.environ.get("TESSERA_INGRESS_TRUST_FORWARDED", "0") == "1",
            switch_interval_ms=switch_interval_ms(),
        )
