"""PostgreSQL sink under faults: SIGKILL mid-batch, PostgreSQL down for 30 s under load."""

from __future__ import annotations

import dataclasses
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import psycopg
import pytest

from schemas.base import BookingStatus
from schemas.booking_events import BookingCompleted, BookingConfirmed, BookingCreated
from schemas.topics import BOOKING_EVENTS
from sinks.base import metrics
from sinks.postgres import app
from tessera.config import PROJECT_ROOT, SERVICE_DATABASES, Settings
from tessera.runtime.postgres import PostgresComponent

from .factories import booking_event, journeys
from .support import (
    DatabaseFactory,
    count,
    dump_all,
    forget_groups,
    produce,
    running,
    use_databases,
    wait_caught_up,
)

SERVICES = tuple(app.GROUPS)
RUN_SINK = (
    "from sinks.postgres.app import main; from tessera.config import load_settings; "
    "main(load_settings())"
)


def start_sink_process(settings: Settings, dsns: dict[str, str], log: Path) -> subprocess.Popen:
    env = {
        **os.environ,
        "TESSERA_TOPIC_PREFIX": settings.topic_prefix,
        "TESSERA_KAFKA_BOOTSTRAP": settings.kafka_bootstrap,
        **{f"TESSERA_PG_DSN_{s.upper()}": dsn for s, dsn in dsns.items()},
    }
    with open(log, "ab") as out:
        return subprocess.Popen(
            [sys.executable, "-c", RUN_SINK],
            env=env,
            cwd=PROJECT_ROOT,
            stdout=out,
            stderr=subprocess.STDOUT,
        )


def wait_all_caught_up(settings: Settings, alive: Callable[[], None] = lambda: None) -> None:
    for service in SERVICES:
        group = settings.topic(f"tessera-sink-pg-{service}")
        wait_caught_up(settings, group, app.GROUPS[service].INPUTS, timeout_s=120, alive=alive)


def test_sigkill_mid_batch_then_restart_loses_and_duplicates_nothing(
    isolated_settings: Callable[..., Settings],
    databases: DatabaseFactory,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    settings = isolated_settings(partitions=3)
    stream = journeys(4000, seed=5)
    produce(settings, stream.all())
    history_rows = len(stream.booking_events)

    # The victim: a sink process, SIGKILLed twice while it is writing, then restarted.
    victim = databases()
    log = tmp_path / "sink.log"
    for low, high in ((0.05, 0.4), (0.45, 0.8)):
        proc = start_sink_process(settings, victim, log)
        try:
            deadline = time.monotonic() + 60
            while True:
                done = count(victim["booking"], "booking_history") / history_rows
                if low <= done < high:
                    break
                assert done < high, f"the sink got to {done:.0%} before it could be killed"
                assert proc.poll() is None, log.read_text()[-3000:]
                assert time.monotonic() < deadline, "the sink made no progress"
                time.sleep(0.005)
            proc.send_signal(signal.SIGKILL)
        finally:
            proc.kill()
            proc.wait(10)
    proc = start_sink_process(settings, victim, log)
    try:

        def alive() -> None:
            assert proc.poll() is None, log.read_text()[-3000:]

        wait_all_caught_up(settings, alive)
    finally:
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(30) == 0, log.read_text()[-3000:]
    killed = dump_all(victim)
    assert killed["booking.booking_history"].count(b"\n") == history_rows

    # The reference: one clean run of the same records into fresh databases.
    reference = databases()
    use_databases(monkeypatch, reference)
    forget_groups(settings)
    with running(lambda stop: app.main(settings, stop=stop)) as loop:
        wait_all_caught_up(settings, loop.check)
    assert killed == dump_all(reference)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def private_postgres(
    isolated_settings: Callable[..., Settings], monkeypatch: pytest.MonkeyPatch
) -> Iterator[PostgresComponent]:
    """A PostgreSQL of this test's own (stopping the shared one would break other tests)."""
    # Not tmp_path: it is mode 0700 and postgres runs as the `postgres` OS user.
    home = Path(tempfile.mkdtemp(prefix="tessera-sink-outage-"))
    home.chmod(0o755)
    for service in SERVICE_DATABASES:
        monkeypatch.delenv(f"TESSERA_PG_DSN_{service.upper()}", raising=False)
    settings = dataclasses.replace(
        isolated_settings(partitions=3), home=home, postgres_port=free_port()
    )
    component = PostgresComponent(settings)
    component.start()
    try:
        yield component
    finally:
        component.stop()
        shutil.rmtree(home, ignore_errors=True)


def test_postgres_down_30s_under_load_then_every_row_arrives(
    private_postgres: PostgresComponent,
) -> None:
    settings = private_postgres.settings
    dsn = settings.postgres_dsn("booking")
    stop_producing = threading.Event()
    produced: list[int] = []

    def load() -> None:
        """~300 events/s: each booking created, confirmed, completed."""
        n = 0
        while not stop_producing.is_set():
            batch = []
            for _ in range(30):
                booking_id = f"out-{n:06d}"
                batch += [
                    booking_event(BookingCreated, booking_id, 1, BookingStatus.PENDING),
                    booking_event(BookingConfirmed, booking_id, 2, BookingStatus.CONFIRMED),
                    booking_event(BookingCompleted, booking_id, 3, BookingStatus.COMPLETED),
                ]
                n += 1
            produced.append(produce(settings, batch, BOOKING_EVENTS) // 3)
            time.sleep(0.3)

    paused_before = metrics.ERRORS.labels("pg-booking", "target_unavailable")._value.get()
    producer = threading.Thread(target=load, daemon=True)
    with running(lambda stop: app.main(settings, services=("booking",), stop=stop)) as loop:
        producer.start()
        deadline = time.monotonic() + 30
        while count(dsn, "bookings") < 100:
            loop.check()
            assert time.monotonic() < deadline, "the sink wrote nothing before the outage"
            time.sleep(0.1)
        private_postgres.stop()
        outage_started = time.monotonic()
        before_outage = sum(produced)
        time.sleep(30)
        during_outage = sum(produced) - before_outage
        private_postgres.start()
        assert time.monotonic() - outage_started >= 30
        time.sleep(2)
        stop_producing.set()
        producer.join(30)
        group = settings.topic("tessera-sink-pg-booking")
        wait_caught_up(settings, group, [BOOKING_EVENTS], timeout_s=90, alive=loop.check)
    bookings = sum(produced)
    assert during_outage > 1000, "too little load during the outage"
    with psycopg.connect(dsn) as conn:
        statuses = conn.execute("SELECT status, count(*) FROM bookings GROUP BY status").fetchall()
        history = conn.execute("SELECT count(*) FROM booking_history").fetchone()
    assert statuses == [("COMPLETED", bookings)]
    assert history == (3 * bookings,)
    paused = metrics.ERRORS.labels("pg-booking", "target_unavailable")._value.get()
    assert paused > paused_before, "the sink never noticed the outage"
