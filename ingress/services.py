"""Everything a handler talks to, created at startup and closed at shutdown.

Nothing here connects eagerly: the ingress starts (and answers /healthz) while Kafka,
Redis or Postgres are still coming up; /readyz says when it can take traffic.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

from schemas.topics import BOOKING_COMMANDS, INVENTORY_COMMANDS
from tessera.config import Settings

from .admission import Admitter
from .auth.devkeys import ensure_dev_keys
from .auth.verifier import Authenticator
from .config import IngressConfig
from .http import HttpResponse
from .idempotency import IdempotencyStore
from .kafka_producer import CommandProducer
from .postgres import Postgres
from .push_hub import PushHub
from .readmodel import ReadModel
from .redis_gate import RedisGate

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Topics:
    booking_commands: str
    inventory_commands: str


@dataclass
class Services:
    settings: Settings
    config: IngressConfig
    gate: RedisGate
    pg: Postgres
    producer: CommandProducer
    auth: Authenticator
    admitter: Admitter
    idempotency: IdempotencyStore
    reads: ReadModel
    hub: PushHub
    topics: Topics
    openapi: bytes = b"{}"
    ready_cache: tuple[float, HttpResponse] | None = None

    @property
    def prefix(self) -> str:
        return self.settings.topic_prefix

    @classmethod
    async def start(cls, settings: Settings, config: IngressConfig, openapi: bytes) -> Services:
        dev_jwks = settings.home / "keys" / "jwks.json"
        if Path(config.auth.jwks_source) == dev_jwks and not dev_jwks.exists():
            ensure_dev_keys(dev_jwks.parent)
            log.warning("generated the development signing key", extra={"jwks": str(dev_jwks)})
        prefix, backend = settings.topic_prefix, config.backend
        gate = RedisGate(settings.redis_url, backend)
        pg = Postgres(settings, backend)
        await pg.open()
        producer = CommandProducer(settings.kafka_bootstrap, backend)
        producer.start()
        lock_ttl_s = backend.kafka_delivery_timeout_ms / 1000 + 5
        return cls(
            settings=settings,
            config=config,
            gate=gate,
            pg=pg,
            producer=producer,
            auth=Authenticator(config.auth),
            admitter=Admitter(
                gate, config.limits, prefix, int(lock_ttl_s * 1000), stale_s=settings.hold_ttl_s
            ),
            idempotency=IdempotencyStore(gate, config.limits, prefix, lock_ttl_s),
            reads=ReadModel(gate, pg, prefix),
            hub=PushHub(gate),
            topics=Topics(
                settings.topic(BOOKING_COMMANDS.name), settings.topic(INVENTORY_COMMANDS.name)
            ),
            openapi=openapi,
        )

    async def close(self) -> None:
        await self.hub.close()
        await self.producer.close()
        await self.pg.close()
        await self.gate.close()
