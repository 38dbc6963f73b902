"""Helpers of the sink tests: fresh migrated databases, producing events, waiting for a
consumer group to catch up, running a loop in a thread, ordered table dumps."""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from typing import Any

import psycopg
import pytest
from confluent_kafka import Consumer, KafkaError, KafkaException, Producer, TopicPartition
from confluent_kafka.admin import AdminClient
from psycopg import sql

from pipelines.runtime.outputs import key_of, topic_of
from schemas import codec
from schemas.topics import TopicSpec
from tessera.config import SERVICE_DATABASES, Settings
from tessera.runtime.migrate import MIGRATIONS_ROOT, migrate_database

DatabaseFactory = Callable[[], dict[str, str]]


def admin_dsn(settings: Settings) -> str:
    return f"postgresql://{settings.postgres_user}@127.0.0.1:{settings.postgres_port}/postgres"


def create_databases(settings: Settings, tag: str) -> dict[str, str]:
    """A migrated database per service, named after `tag`; their DSNs."""
    dsns = {}
    base = admin_dsn(settings).rsplit("/", 1)[0]
    with psycopg.connect(admin_dsn(settings), autocommit=True) as conn:
        for service in SERVICE_DATABASES:
            name = f"{tag}_{service}"
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
            dsns[service] = f"{base}/{name}"
    for service, dsn in dsns.items():
        migrate_database(dsn, MIGRATIONS_ROOT / service)
    return dsns


def drop_databases(settings: Settings, dsns: Iterable[str]) -> None:
    with psycopg.connect(admin_dsn(settings), autocommit=True) as conn:
        for dsn in dsns:
            name = dsn.rsplit("/", 1)[1]
            conn.execute(
                sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
            )


def use_databases(monkeypatch: pytest.MonkeyPatch, dsns: dict[str, str]) -> None:
    """Point Settings.postgres_dsn(service) at `dsns` (it reads the env on every call)."""
    for service, dsn in dsns.items():
        monkeypatch.setenv(f"TESSERA_PG_DSN_{service.upper()}", dsn)


def produce(
    settings: Settings,
    messages: Iterable[Any],
    spec: TopicSpec | None = None,
    headers: list[tuple[str, bytes]] | None = None,
) -> int:
    """Produce schema messages to their registry topic (or `spec`), keyed as routing says."""
    producer = Producer(
        {"bootstrap.servers": settings.kafka_bootstrap, "linger.ms": 5, "log_level": 3}
    )
    count = 0
    for message in messages:
        target = spec or topic_of(message)
        producer.produce(
            settings.topic(target.name),
            key=key_of(message, topic_of(message)).encode(),
            value=codec.encode(message),
            headers=headers or [],
        )
        count += 1
        if count % 5000 == 0:
            producer.poll(0)
    assert producer.flush(30) == 0
    return count


def produce_raw(settings: Settings, topic: str, key: bytes, value: bytes | None) -> None:
    producer = Producer({"bootstrap.servers": settings.kafka_bootstrap, "log_level": 3})
    producer.produce(settings.topic(topic), key=key, value=value)
    assert producer.flush(30) == 0


def lag(settings: Settings, group: str, topics: Iterable[TopicSpec]) -> int:
    """Records of `topics` the consumer group has not committed yet."""
    consumer = Consumer(
        {"bootstrap.servers": settings.kafka_bootstrap, "group.id": group, "log_level": 3}
    )
    try:
        partitions = []
        for spec in topics:
            name = settings.topic(spec.name)
            metadata = consumer.list_topics(name, timeout=10).topics[name]
            partitions += [TopicPartition(name, p) for p in metadata.partitions]
        committed = consumer.committed(partitions, timeout=10)
        total = 0
        for tp in committed:
            _low, high = consumer.get_watermark_offsets(tp, timeout=10)
            total += high - max(tp.offset, 0)
        return total
    finally:
        consumer.close()


def wait_caught_up(
    settings: Settings,
    group: str,
    topics: Iterable[TopicSpec],
    timeout_s: float = 60,
    alive: Callable[[], None] = lambda: None,
) -> None:
    """Until `group` committed every record of `topics`; `alive` raises if the consumer died."""
    topics = list(topics)
    deadline = time.monotonic() + timeout_s
    remaining = lag_once_led(settings, group, topics)
    while remaining != 0:  # None: not known yet
        alive()
        assert time.monotonic() < deadline, f"{group}: {remaining} records not committed"
        time.sleep(0.2)
        remaining = lag_once_led(settings, group, topics)


_LEADERLESS = (
    KafkaError.NOT_LEADER_FOR_PARTITION,
    KafkaError.LEADER_NOT_AVAILABLE,
    KafkaError.UNKNOWN_TOPIC_OR_PART,
)


def lag_once_led(settings: Settings, group: str, topics: list[TopicSpec]) -> int | None:
    """lag(); None while a partition has no leader yet (a topic created a moment ago)."""
    try:
        return lag(settings, group, topics)
    except KafkaException as exc:
        if exc.args[0].code() not in _LEADERLESS:
            raise
        return None


class Running:
    """A loop running in a thread; `check()` re-raises what it raised."""

    def __init__(self, run: Callable[[threading.Event], None]) -> None:
        self.stop = threading.Event()
        self.failures: list[BaseException] = []
        self.thread = threading.Thread(target=self._target, args=(run,), daemon=True)

    def _target(self, run: Callable[[threading.Event], None]) -> None:
        try:
            run(self.stop)
        except BaseException as exc:
            self.failures.append(exc)

    def check(self) -> None:
        if self.failures:
            raise self.failures[0]
        assert self.thread.is_alive(), "the loop stopped on its own"


@contextlib.contextmanager
def running(run: Callable[[threading.Event], None]) -> Iterator[Running]:
    """Run a loop in a thread; stop it on exit and re-raise whatever it raised."""
    loop = Running(run)
    loop.thread.start()
    try:
        yield loop
    finally:
        loop.stop.set()
        loop.thread.join(60)
    assert not loop.thread.is_alive(), "the loop did not stop"
    if loop.failures:
        raise loop.failures[0]


def dump(dsn: str, tables: dict[str, str]) -> dict[str, bytes]:
    """Each table as COPY text, ordered by the given columns: byte-comparable."""
    out = {}
    with psycopg.connect(dsn) as conn, conn.cursor() as cur:
        for table, order in tables.items():
            query = sql.SQL("COPY (SELECT * FROM {} ORDER BY {}) TO STDOUT").format(
                sql.Identifier(table), sql.SQL(order)
            )
            with cur.copy(query) as copy:
                out[table] = b"".join(bytes(chunk) for chunk in copy)
    return out


def count(dsn: str, table: str) -> int:
    with psycopg.connect(dsn) as conn:
        row = conn.execute(sql.SQL("SELECT count(*) FROM {}").format(sql.Identifier(table)))
        return int(row.fetchone()[0])  # type: ignore[index]


TABLES = {
    "booking": {"bookings": "booking_id", "booking_history": "booking_id, version"},
    "inventory": {"inventory": "item_id", "inventory_reservations": "booking_id"},
    "payment": {"payments": "booking_id", "payment_transactions": "transaction_id"},
    "saga": {"saga_instances": "booking_id", "saga_steps": "booking_id, step, action"},
}


def dump_all(dsns: dict[str, str]) -> dict[str, bytes]:
    out = {}
    for service, tables in TABLES.items():
        for table, data in dump(dsns[service], tables).items():
            out[f"{service}.{table}"] = data
    return out


def sink_groups(settings: Settings, services: Iterable[str] = TABLES) -> list[str]:
    return [settings.topic(f"tessera-sink-pg-{service}") for service in services]


def forget_groups(settings: Settings, groups: Iterable[str] | None = None) -> None:
    """Delete consumer groups (default: the PostgreSQL sinks'): the next run starts over."""
    admin = AdminClient({"bootstrap.servers": settings.kafka_bootstrap, "log_level": 0})
    names = list(groups) if groups is not None else sink_groups(settings)
    for future in admin.delete_consumer_groups(names).values():
        future.result()
