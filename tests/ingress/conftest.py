"""Fixtures of the ingress tests: the app on the real stack, tokens, Kafka and Postgres helpers.

Most tests drive the ASGI app in-process through httpx.ASGITransport (`ingress`); the
`granian_server` fixture runs the real server (`python -m ingress.server`) in a subprocess.
Everything needs the stack: when a service is missing these tests fail, never skip.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import psycopg
import pytest
import redis
from confluent_kafka import OFFSET_BEGINNING, Consumer, KafkaError, TopicPartition

from ingress.app import IngressApp
from ingress.config import BackendConfig, IngressConfig, LimitsConfig
from tessera.config import PROJECT_ROOT, Settings

from .keyring import KeyRing

GENEROUS = {"user_rate": 100_000, "ip_rate": 1_000_000, "holds_cap": 1_000}


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture
def keyring(tmp_path: Path) -> KeyRing:
    return KeyRing(tmp_path)


def uid(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:12]}"


@dataclass
class Harness:
    app: IngressApp
    client: httpx.AsyncClient
    settings: Settings
    keys: KeyRing

    def auth(self, sub: str, *roles: str, key: str | None = None, **kw: Any) -> dict[str, str]:
        headers = self.keys.bearer(sub, *roles, **kw)
        if key is not None:
            headers["Idempotency-Key"] = key
        return headers

    async def book(
        self, sub: str, role: str = "USER", key: str | None = None, **body: Any
    ) -> httpx.Response:
        payload = {"itemId": "item-1", "quantity": 1, "paymentMethod": "pm_card_visa", **body}
        headers = self.auth(sub, role, key=key or uid("k"))
        return await self.client.post("/api/v1/bookings", json=payload, headers=headers)


@pytest.fixture
async def ingress(
    stack: Settings, isolated_settings: Callable[..., Settings], keyring: KeyRing
) -> AsyncIterator[Callable[..., Any]]:
    """Factory: `await ingress(settings=None, client_ip=..., **limits)` -> a started Harness."""
    async with contextlib.AsyncExitStack() as exits:

        async def start(
            settings: Settings | None = None,
            client_ip: str = "10.0.0.1",
            backend: BackendConfig | None = None,
            auth: dict[str, Any] | None = None,
            **limits: Any,
        ) -> Harness:
            settings = settings or isolated_settings()
            config = IngressConfig(
                auth=keyring.auth_config(**(auth or {})),
                limits=LimitsConfig(**{**GENEROUS, **limits}),
                backend=backend or BackendConfig(),
            )
            app = IngressApp(settings, config)
            await exits.enter_async_context(app.running())
            transport = httpx.ASGITransport(app=app, client=(client_ip, 40000))
            client = httpx.AsyncClient(transport=transport, base_url="http://ingress")
            await exits.enter_async_context(client)
            prefixes.add(settings.topic_prefix)
            return Harness(app, client, settings, keyring)

        prefixes: set[str] = set()
        yield start
    drop_keys(stack, prefixes)


def drop_keys(stack: Settings, prefixes: set[str]) -> None:
    """Remove the Redis keys a test wrote (they carry its topic prefix)."""
    with redis.Redis.from_url(stack.redis_url) as client:
        for prefix in prefixes:
            doomed = list(client.scan_iter(match=f"{prefix}*", count=1000))
            if doomed:
                client.unlink(*doomed)


def read_topic(settings: Settings, name: str, group_id: str, timeout_s: float = 15.0) -> list[Any]:
    """Every record of the (isolated) topic, from the beginning to the end of each partition."""
    topic = settings.topic(name)
    consumer = Consumer(
        {
            "bootstrap.servers": settings.kafka_bootstrap,
            "group.id": group_id,
            "enable.auto.commit": False,
            "enable.partition.eof": True,
            "isolation.level": "read_committed",
        }
    )
    try:
        partitions = consumer.list_topics(topic, timeout=10).topics[topic].partitions
        consumer.assign([TopicPartition(topic, p, OFFSET_BEGINNING) for p in partitions])
        pending, records = set(partitions), []
        deadline = time.monotonic() + timeout_s
        while pending and time.monotonic() < deadline:
            msg = consumer.poll(0.5)
            if msg is None:
                continue
            if msg.error():
                if msg.error().code() == KafkaError._PARTITION_EOF:
                    pending.discard(msg.partition())
                    continue
                raise AssertionError(msg.error())
            records.append(msg)
        assert not pending, f"partitions {pending} of {topic} not read to the end"
        return records
    finally:
        consumer.close()


@dataclass
class Rows:
    """Rows inserted into the shared service databases, deleted after the test."""

    settings: Settings
    inserted: list[tuple[str, str, str, str]] = field(default_factory=list)

    def add(self, database: str, table: str, key_column: str, row: dict[str, Any]) -> None:
        columns = ", ".join(row)
        marks = ", ".join(["%s"] * len(row))
        with psycopg.connect(self.settings.postgres_dsn(database), autocommit=True) as conn:
            conn.execute(
                f"INSERT INTO {table} ({columns}) VALUES ({marks})",  # noqa: S608 - test constants
                tuple(row.values()),
            )
        self.inserted.append((database, table, key_column, row[key_column]))

    def cleanup(self) -> None:
        for database, table, key_column, value in self.inserted:
            with psycopg.connect(self.settings.postgres_dsn(database), autocommit=True) as conn:
                conn.execute(f"DELETE FROM {table} WHERE {key_column} = %s", (value,))  # noqa: S608


@pytest.fixture
def rows(stack: Settings) -> Iterator[Rows]:
    rows = Rows(stack)
    yield rows
    rows.cleanup()


@pytest.fixture
def redis_client(stack: Settings) -> Iterator[redis.Redis]:
    client = redis.Redis.from_url(stack.redis_url, socket_timeout=5)
    yield client
    client.close()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Server:
    url: str
    settings: Settings
    process: subprocess.Popen[bytes]
    log: Path


@contextlib.contextmanager
def granian_process(
    settings: Settings, keyring: KeyRing, log: Path, **env: str
) -> Iterator[Server]:
    """`python -m ingress.server` (granian, uvloop, 1 worker) on a free port; stopped after."""
    port = free_port()
    environ = {
        **os.environ,
        "TESSERA_TOPIC_PREFIX": settings.topic_prefix,
        "TESSERA_TOPIC_PARTITIONS": str(settings.topic_partitions),
        "TESSERA_INGRESS_PORT": str(port),
        "TESSERA_JWKS": str(keyring.path),
        "TESSERA_JWT_ISSUER": "tessera-test",
        "TESSERA_JWT_AUDIENCE": "tessera-api",
        "TESSERA_INGRESS_USER_RATE": "100000",
        "TESSERA_INGRESS_IP_RATE": "1000000",
        "TESSERA_INGRESS_HOLDS_CAP": "1000",
        **env,
    }
    with open(log, "wb") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "ingress.server"],
            cwd=PROJECT_ROOT,
            env=environ,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            if process.poll() is not None:
                raise AssertionError(f"ingress exited {process.returncode}:\n{log.read_text()}")
            with contextlib.suppress(httpx.HTTPError):
                if httpx.get(url + "/healthz", timeout=1).status_code == 200:
                    break
            if time.monotonic() > deadline:
                raise AssertionError(f"ingress did not answer /healthz:\n{log.read_text()}")
            time.sleep(0.1)
        yield Server(url, settings, process, log)
    finally:
        process.send_signal(signal.SIGINT)
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=5)
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)  # no worker left behind


@pytest.fixture(scope="module")
def module_settings(stack: Settings) -> Iterator[Settings]:
    """Like isolated_settings, for module-scoped fixtures (one prefix for the module)."""
    import dataclasses

    from confluent_kafka.admin import AdminClient

    from tessera.runtime.topics import apply_topics

    prefix = uid("t") + "."
    settings = dataclasses.replace(stack, topic_prefix=prefix, topic_partitions=3)
    apply_topics(settings.kafka_bootstrap, 3, prefix=prefix)
    yield settings
    drop_keys(stack, {prefix})
    admin = AdminClient({"bootstrap.servers": stack.kafka_bootstrap, "log_level": 0})
    doomed = [t for t in admin.list_topics(timeout=10).topics if t.startswith(prefix)]
    if doomed:
        for future in admin.delete_topics(doomed, operation_timeout=30).values():
            future.result()


@pytest.fixture(scope="module")
def module_keyring(tmp_path_factory: pytest.TempPathFactory) -> KeyRing:
    return KeyRing(tmp_path_factory.mktemp("keys"))


@pytest.fixture(scope="module")
def granian_server(
    module_settings: Settings, module_keyring: KeyRing, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Server]:
    log = tmp_path_factory.mktemp("ingress") / "ingress.log"
    with granian_process(
        module_settings, module_keyring, log, TESSERA_INGRESS_SSE_HEARTBEAT_S="0.3"
    ) as server:
        yield server
