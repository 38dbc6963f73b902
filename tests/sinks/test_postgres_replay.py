"""PostgreSQL sink: replays give byte-identical tables; older events never win."""

from __future__ import annotations

import threading
from collections.abc import Callable

import psycopg
import pytest

from schemas.base import BookingStatus
from schemas.booking_events import BookingCompleted, BookingConfirmed, BookingCreated
from schemas.topics import BOOKING_EVENTS
from sinks.postgres import app
from tessera.config import Settings

from .factories import booking_event, journeys
from .support import (
    DatabaseFactory,
    dump_all,
    forget_groups,
    produce,
    running,
    use_databases,
    wait_caught_up,
)

SERVICES = tuple(app.GROUPS)


def groups(settings: Settings) -> dict[str, str]:
    return {s: settings.topic(f"tessera-sink-pg-{s}") for s in SERVICES}


def run_until_caught_up(settings: Settings, services: tuple[str, ...] = SERVICES) -> None:
    def run(stop: threading.Event) -> None:
        app.main(settings, services=services, stop=stop)

    with running(run) as loop:
        for service in services:
            group = groups(settings)[service]
            wait_caught_up(settings, group, app.GROUPS[service].INPUTS, alive=loop.check)


def test_replaying_every_topic_twice_gives_byte_identical_tables(
    isolated_settings: Callable[..., Settings],
    databases: DatabaseFactory,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    settings = isolated_settings(partitions=3)
    stream = journeys(400, seed=11)
    produce(settings, stream.all())
    # Redeliveries: the same events once more, in a different order (newest first).
    produce(settings, list(reversed(stream.booking_events[:300])))
    produce(settings, list(reversed(stream.payment_events[:100])))

    first = databases()
    use_databases(monkeypatch, first)
    run_until_caught_up(settings)
    reference = dump_all(first)
    assert reference["booking.bookings"].count(b"\n") == 400
    assert reference["saga.saga_instances"].count(b"\n") == 400

    forget_groups(settings)
    run_until_caught_up(settings)  # the same topics again, into the same databases
    assert dump_all(first) == reference

    second = databases()
    use_databases(monkeypatch, second)
    forget_groups(settings)
    run_until_caught_up(settings)  # and into fresh databases
    assert dump_all(second) == reference

    # The rows are the journeys' final states.
    final = {e.booking_id: e for e in stream.booking_events}
    with psycopg.connect(first["booking"]) as conn:
        rows = dict(conn.execute("SELECT booking_id, status FROM bookings").fetchall())
    assert rows == {b: e.status.value for b, e in final.items()}


def test_an_older_event_never_overwrites_a_newer_one(
    isolated_settings: Callable[..., Settings],
    databases: DatabaseFactory,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    settings = isolated_settings(partitions=1)
    dsns = databases()
    use_databases(monkeypatch, dsns)
    created = booking_event(BookingCreated, "bk-1", 1, BookingStatus.PENDING)
    confirmed = booking_event(BookingConfirmed, "bk-1", 2, BookingStatus.CONFIRMED)
    completed = booking_event(BookingCompleted, "bk-1", 3, BookingStatus.COMPLETED)
    # In one batch, newest first...
    produce(settings, [completed, created, confirmed], BOOKING_EVENTS)
    run_until_caught_up(settings, ("booking",))
    # ...and in later batches, older ones again.
    produce(settings, [created], BOOKING_EVENTS)
    run_until_caught_up(settings, ("booking",))
    produce(settings, [confirmed], BOOKING_EVENTS)
    run_until_caught_up(settings, ("booking",))
    with psycopg.connect(dsns["booking"]) as conn:
        row = conn.execute("SELECT status, version FROM bookings WHERE booking_id = 'bk-1'")
        assert row.fetchone() == ("COMPLETED", 3)
        history = conn.execute(
            "SELECT version, status FROM booking_history ORDER BY version"
        ).fetchall()
    assert history == [(1, "PENDING"), (2, "CONFIRMED"), (3, "COMPLETED")]
