"""Benchmark: PostgreSQL sink upserts/s against a plain COPY of the same rows, same run.

    uv run python -m load.bench_sinks [--events 100000] [--batch 2000] [--rounds 3]

N booking-events (distinct bookings with random UUID ids, as the ingress assigns them, so
index inserts land all over the key space for every method alike) are written to the
booking tables four ways:
- "COPY (baseline)": binary COPY of the very same rows (prebuilt tuples) into the tables.
- "sink from Kafka": the real sink (sinks.base.loop.BatchSink + PostgresWriter, default
  strategy) consuming the events from a 3-partition Kafka topic: poll, decode, project,
  reduce, write in one transaction per batch, commit offsets synchronously. Timed from
  the first record decoded to the last row committed (the consumer group join is not
  counted). This is the headline figure and ratio.
- "writer staged_copy" / "writer executemany": the writer alone (decode, project, reduce,
  write; no Kafka, no overlap), with each upsert strategy: binary COPY into a temp table +
  INSERT ... SELECT ... ON CONFLICT DO UPDATE ... WHERE t.version < EXCLUDED.version, or
  INSERT ... ON CONFLICT per row via executemany (pipeline mode).
The tables are truncated before each measurement; figures are medians of the rounds. Rows
count both tables (bookings + booking_history: two rows per event). It runs against a
scratch database on the configured PostgreSQL and scratch topics on the configured Kafka
(`tessera up --infra-only`).
"""

from __future__ import annotations

import argparse
import dataclasses
import random
import statistics
import threading
import time
import uuid
from collections.abc import Callable, Iterable
from typing import Any

import psycopg
from confluent_kafka import Producer
from confluent_kafka.admin import AdminClient
from psycopg import sql

from schemas import codec
from schemas.base import BookingStatus, Money
from schemas.booking_events import BookingConfirmed
from schemas.topics import BOOKING_EVENTS, TopicSpec, declared_topics
from sinks.base.config import BatchConfig
from sinks.base.loop import BatchSink
from sinks.base.records import Rejected, SourceRecord
from sinks.postgres import bookings
from sinks.postgres.app import DEFAULT_STRATEGY
from sinks.postgres.connection import PostgresConfig
from sinks.postgres.projection import Row
from sinks.postgres.upsert import Strategy
from sinks.postgres.writer import PostgresWriter
from tessera.config import Settings, load_settings
from tessera.runtime.migrate import MIGRATIONS_ROOT, migrate_database
from tessera.runtime.topics import apply_topics

T0 = 1_767_225_600_000


def booking_ids(n: int) -> list[str]:
    """Random UUIDs like the ingress assigns (seeded): index inserts land all over the key
    space, as in production, for the sink and the COPY alike."""
    rng = random.Random(42)
    return [str(uuid.UUID(int=rng.getrandbits(128), version=4)) for _ in range(n)]


def make_events(n: int) -> list[bytes]:
    ids = booking_ids(n)
    return [
        codec.encode(
            BookingConfirmed(
                booking_id=ids[i],
                user_id=f"user-{i % 5000}",
                item_id=f"item-{i % 1000}",
                quantity=1 + i % 3,
                status=BookingStatus.CONFIRMED,
                version=2,
                created_at=T0 + i,
                occurred_at=T0 + i + 500,
                amount=Money(1500 * (1 + i % 3), "EUR"),
                payment_id=f"pi_{i:08d}",
            )
        )
        for i in range(n)
    ]


def writer_path(dsn: str, strategy: Strategy, events: list[bytes], batch: int) -> float:
    """Seconds for the sink's write path to take every event into the tables."""
    writer = PostgresWriter(bookings, PostgresConfig(dsn=dsn, strategy=strategy))  # type: ignore[arg-type]
    decoder = BOOKING_EVENTS.decoder
    assert decoder is not None
    writer.session.get()  # connect (and prepare staging) outside the timed part
    started = time.perf_counter()
    for at in range(0, len(events), batch):
        rows: list[Row] = []
        for offset, value in enumerate(events[at : at + batch], start=at):
            source = SourceRecord(BOOKING_EVENTS.name, 0, offset, "", value)
            rows.extend(writer.project(BOOKING_EVENTS, decoder.decode(value), source))
        rejected = writer.write(writer.reduce(rows))
        assert not rejected
    elapsed = time.perf_counter() - started
    writer.close()
    return elapsed


class TimedWriter:
    """The real writer, timed from the first record it maps to the last row it commits."""

    def __init__(self, writer: PostgresWriter, expected_rows: int) -> None:
        self.writer = writer
        self.name, self.inputs = writer.name, writer.inputs
        self.expected_rows = expected_rows
        self.rows = 0
        self.first: float | None = None
        self.last = 0.0
        self.done = threading.Event()

    def project(self, spec: TopicSpec, message: Any, source: SourceRecord) -> Iterable[Row]:
        if self.first is None:
            self.first = time.perf_counter()
        return self.writer.project(spec, message, source)

    def reduce(self, rows: list[Row]) -> Any:
        return self.writer.reduce(rows)

    def write(self, batch: Any) -> list[Rejected]:
        rejected = self.writer.write(batch)
        self.last = time.perf_counter()
        self.rows += sum(len(rows) for rows in batch.values())
        if self.rows >= self.expected_rows:
            self.done.set()
        return rejected

    def close(self) -> None:
        self.writer.close()


def sink_from_kafka(settings: Settings, dsn: str, expected_rows: int, batch: int) -> float:
    """Seconds for the real sink to consume the topic and commit every row."""
    admin = AdminClient({"bootstrap.servers": settings.kafka_bootstrap, "log_level": 0})
    group = settings.topic("tessera-sink-pg-booking")
    if group in {g.group_id for g in admin.list_consumer_groups().result().valid}:
        for future in admin.delete_consumer_groups([group]).values():
            future.result()  # start from the beginning of the topic again
    writer = TimedWriter(
        PostgresWriter(bookings, PostgresConfig(dsn=dsn, strategy=DEFAULT_STRATEGY)),  # type: ignore[arg-type]
        expected_rows,
    )
    sink = BatchSink(settings, writer, BatchConfig(max_records=batch))
    stop = threading.Event()
    thread = threading.Thread(target=sink.run, args=(stop,))
    thread.start()
    finished = writer.done.wait(600)
    stop.set()
    thread.join(60)
    if not finished or writer.first is None:
        raise RuntimeError(f"the sink wrote {writer.rows} of {expected_rows} rows")
    return writer.last - writer.first


def produce_events(settings: Settings, events: list[bytes]) -> None:
    specs = tuple(s for s in declared_topics() if s.name.startswith(BOOKING_EVENTS.name))
    apply_topics(settings.kafka_bootstrap, 3, specs=specs, prefix=settings.topic_prefix)
    producer = Producer(
        {"bootstrap.servers": settings.kafka_bootstrap, "linger.ms": 20, "log_level": 3}
    )
    topic = settings.topic(BOOKING_EVENTS.name)
    keys = booking_ids(len(events))
    for i, value in enumerate(events):
        producer.produce(topic, key=keys[i].encode(), value=value)
        if i % 10_000 == 0:
            producer.poll(0)
    if producer.flush(60):
        raise RuntimeError("events not acknowledged by Kafka")


def delete_topics(settings: Settings) -> None:
    admin = AdminClient({"bootstrap.servers": settings.kafka_bootstrap, "log_level": 0})
    topics = admin.list_topics(timeout=10).topics
    doomed = [t for t in topics if t.startswith(settings.topic_prefix)]
    if doomed:
        for future in admin.delete_topics(doomed, operation_timeout=30).values():
            future.result()


def plain_copy(dsn: str, events: list[bytes]) -> float:
    """Seconds to COPY the same rows (prebuilt) straight into the tables."""
    decoder = BOOKING_EVENTS.decoder
    assert decoder is not None
    source = SourceRecord(BOOKING_EVENTS.name, 0, 0, "", b"")
    tables: dict[Any, list[tuple[Any, ...]]] = {p: [] for p in bookings.PROJECTIONS}
    for value in events:
        for projection, values, _source in bookings.project(
            BOOKING_EVENTS, decoder.decode(value), source
        ):
            tables[projection].append(values)
    with psycopg.connect(dsn) as conn:
        types = {
            p: [
                "text" if t == "bpchar" else t
                for (t,) in conn.execute(
                    "SELECT t.typname FROM unnest(%s::text[]) WITH ORDINALITY AS c(name, n)"
                    " JOIN pg_attribute a ON a.attrelid = %s::regclass AND a.attname = c.name"
                    " JOIN pg_type t ON t.oid = a.atttypid ORDER BY c.n",
                    (list(p.columns), p.table),
                ).fetchall()
            ]
            for p in tables
        }
        started = time.perf_counter()
        with conn.transaction(), conn.cursor() as cur:
            for projection, rows in tables.items():
                statement = sql.SQL("COPY {} ({}) FROM STDIN (FORMAT BINARY)").format(
                    sql.Identifier(projection.table),
                    sql.SQL(", ").join(map(sql.Identifier, projection.columns)),
                )
                with cur.copy(statement) as copy:
                    copy.set_types(types[projection])
                    for values in rows:
                        copy.write_row(values)
        return time.perf_counter() - started


def truncate(dsn: str) -> None:
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute("TRUNCATE bookings, booking_history")
        conn.execute("VACUUM ANALYZE bookings, booking_history")


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--events", type=int, default=100_000)
    parser.add_argument("--batch", type=int, default=2000)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()

    settings = load_settings()
    settings = dataclasses.replace(settings, topic_prefix=f"bench-{uuid.uuid4().hex[:8]}.")
    admin = f"postgresql://{settings.postgres_user}@127.0.0.1:{settings.postgres_port}/postgres"
    name = f"bench_sinks_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    dsn = admin.rsplit("/", 1)[0] + f"/{name}"
    try:
        migrate_database(dsn, MIGRATIONS_ROOT / "booking")
        events = make_events(args.events)
        produce_events(settings, events)
        rows = 2 * args.events
        runs: dict[str, Callable[[], float]] = {
            "COPY (baseline)": lambda: plain_copy(dsn, events),
            "sink from Kafka": lambda: sink_from_kafka(settings, dsn, rows, args.batch),
            "writer staged_copy": lambda: writer_path(dsn, "staged_copy", events, args.batch),
            "writer executemany": lambda: writer_path(dsn, "executemany", events, args.batch),
        }
        timings: dict[str, list[float]] = {label: [] for label in runs}
        for _ in range(args.rounds):
            for label, run in runs.items():
                truncate(dsn)
                timings[label].append(run())
        rates = {label: rows / statistics.median(t) for label, t in timings.items()}
        print(
            f"{args.events} booking events = {rows} rows (bookings + booking_history), "
            f"batches of {args.batch}, median of {args.rounds} rounds"
        )
        baseline = rates["COPY (baseline)"]
        for label, rate in rates.items():
            print(f"  {label:20} {rate:>10,.0f} rows/s   ratio to COPY {rate / baseline:.2f}")
        sink = rates["sink from Kafka"]
        print(
            f"sink upserts: {sink:,.0f} rows/s; COPY of the same rows: {baseline:,.0f} rows/s; "
            f"ratio {sink / baseline:.2f} (goal >= 0.3)"
        )
    finally:
        delete_topics(settings)
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(sql.SQL("DROP DATABASE {} WITH (FORCE)").format(sql.Identifier(name)))


if __name__ == "__main__":
    main()
