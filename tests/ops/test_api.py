"""The ops JSON API on seeded rows and real topics: funnel, stuck bookings, business gauges,
dead-letter browsing and replay (ADMIN only), all through the real ops process."""

from __future__ import annotations

import dataclasses
import json
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from confluent_kafka import Consumer, Producer
from confluent_kafka.admin import AdminClient

from ingress.auth.token_cli import mint_token
from load.system_harness import free_port_block
from pipelines.runtime.dead_letters import dead_letter
from tessera.config import Settings
from tests.sinks.support import create_databases, drop_databases

from .support import OpsProcess, eventually, sample


def seed(dsns: dict[str, str]) -> None:
    bookings = [  # id, status, age of created_at and updated_at in seconds
        ("bk-done-1", "COMPLETED", 900),
        ("bk-done-2", "COMPLETED", 900),
        ("bk-done-3", "COMPLETED", 900),
        ("bk-fail-1", "FAILED", 900),
        ("bk-pend-old", "PENDING", 300),
        ("bk-pend-new", "PENDING", 5),
        ("bk-conf-old", "CONFIRMED", 120),
    ]
    with psycopg.connect(dsns["booking"], autocommit=True) as conn:
        for booking_id, status, age in bookings:
            conn.execute(
                "INSERT INTO bookings (booking_id, user_id, item_id, quantity, status, version,"
                " created_at, updated_at) VALUES (%s, 'u', 'it', 1, %s, 1,"
                " now() - make_interval(secs => %s), now() - make_interval(secs => %s))",
                (booking_id, status, age, age),
            )
    steps = {
        "RESERVE_INVENTORY": ["bk-done-1", "bk-done-2", "bk-done-3", "bk-conf-old", "bk-fail-1"],
        "AUTHORIZE_PAYMENT": ["bk-done-1", "bk-done-2", "bk-done-3", "bk-conf-old"],
        "CONFIRM_BOOKING": ["bk-done-1", "bk-done-2", "bk-done-3", "bk-conf-old"],
        "CAPTURE_PAYMENT": ["bk-done-1", "bk-done-2", "bk-done-3"],
    }
    with psycopg.connect(dsns["saga"], autocommit=True) as conn:
        for booking_id, status, _ in bookings[:6]:
            conn.execute(
                "INSERT INTO saga_instances (booking_id, state, status, version, started_at,"
                " updated_at) VALUES (%s, 'X', %s, 1, now(), now())",
                (booking_id, status),
            )
        rows = [(b, s, "ACTION", "SUCCEEDED") for s, ids in steps.items() for b in ids]
        rows += [("bk-fail-1", "RELEASE_INVENTORY", "COMPENSATION", "SUCCEEDED")]
        rows += [("bk-fail-1", "AUTHORIZE_PAYMENT", "ACTION", "FAILED")]
        for row in rows:
            conn.execute(
                "INSERT INTO saga_steps (booking_id, step, action, status, attempt, version,"
                " occurred_at) VALUES (%s, %s, %s, %s, 1, 1, now())",
                row,
            )
    payments = [("bk-done-1", "CAPTURED", 1), ("bk-done-2", "CAPTURED", 1)]
    payments += [("bk-done-3", "CAPTURED", 1), ("bk-conf-old", "AUTHORIZED", 0)]
    payments += [("bk-fail-1", "DECLINED", 0)]
    with psycopg.connect(dsns["payment"], autocommit=True) as conn:
        for booking_id, status, captured in payments:
            conn.execute(
                "INSERT INTO payments (booking_id, status, captured_count, version, updated_at)"
                " VALUES (%s, %s, %s, 1, now())",
                (booking_id, status, captured),
            )


@pytest.fixture(scope="module")
def ops(stack: Settings) -> Iterator[tuple[OpsProcess, Settings]]:
    home = Path(tempfile.mkdtemp(prefix="tessera-ops-"))
    settings = dataclasses.replace(
        stack, home=home, ops_port=free_port_block(1), topic_prefix=f"t-ops{time.time_ns()}."
    )
    from tessera.runtime.topics import apply_topics

    apply_topics(settings.kafka_bootstrap, 2, prefix=settings.topic_prefix)
    dsns = create_databases(stack, f"opst_{time.time_ns() % 10**9}")
    seed(dsns)
    env = {f"TESSERA_PG_DSN_{s.upper()}": dsn for s, dsn in dsns.items()}
    process = OpsProcess(settings, env)
    yield process, settings
    process.stop()
    drop_databases(stack, dsns.values())
    admin = AdminClient({"bootstrap.servers": settings.kafka_bootstrap, "log_level": 0})
    doomed = [t for t in admin.list_topics(timeout=10).topics if t.startswith(settings.topic(""))]
    for future in admin.delete_topics(doomed, operation_timeout=30).values():
        future.result()


def test_funnel_counts_every_stage_and_conversion(ops: tuple[OpsProcess, Settings]) -> None:
    process, _ = ops
    funnel = process.get("/api/funnel").json()
    assert [(s["stage"], s["count"]) for s in funnel["stages"]] == [
        ("created", 6),
        ("reserved", 5),
        ("authorized", 4),
        ("confirmed", 4),
        ("captured", 3),
        ("completed", 3),
    ]
    assert funnel["compensations"]["RELEASE_INVENTORY"] == 1
    assert funnel["by_status"] == {
        "PENDING": 2,
        "CONFIRMED": 1,
        "COMPLETED": 3,
        "CANCELLED": 0,
        "FAILED": 1,
    }
    assert funnel["conversion"] == {
        "authorized_per_attempted": 0.8,
        "captured_per_authorized": 0.75,
    }


def test_stuck_and_oldest_pending_link_to_their_trace(ops: tuple[OpsProcess, Settings]) -> None:
    process, _ = ops
    stuck = process.get("/api/stuck").json()  # default threshold: 60 s
    assert stuck["threshold_s"] == 60
    assert [b["booking_id"] for b in stuck["bookings"]] == ["bk-pend-old", "bk-conf-old"]
    assert stuck["count"] == {"PENDING": 1, "CONFIRMED": 1}
    assert stuck["bookings"][0]["trace"] == "/trace/bk-pend-old"
    assert [b["booking_id"] for b in stuck["oldest_pending"]] == ["bk-pend-old", "bk-pend-new"]
    assert 299 <= stuck["oldest_pending_age_s"] < 400
    wider = process.get("/api/stuck?threshold_s=200").json()
    assert [b["booking_id"] for b in wider["bookings"]] == ["bk-pend-old"]
    assert process.get("/api/stuck?threshold_s=abc").status_code == 400


def test_business_gauges_on_metrics(ops: tuple[OpsProcess, Settings]) -> None:
    process, _ = ops

    def scraped() -> str:
        body = process.get("/metrics").text
        assert sample(body, "tessera_saga_funnel", stage="captured") == 3.0
        return body

    body = eventually(scraped, 20, "business gauges")
    assert sample(body, "tessera_bookings", status="PENDING") == 2.0
    assert sample(body, "tessera_stuck_bookings", status="CONFIRMED") == 1.0
    assert sample(body, "tessera_payment_conversion_ratio", ratio="captured_per_authorized") == 0.75
    assert sample(body, "tessera_saga_compensations", step="RELEASE_INVENTORY") == 1.0
    assert 299 <= (sample(body, "tessera_oldest_pending_booking_age_seconds") or 0) < 400


def _dead_letter(settings: Settings) -> tuple[bytes, bytes]:
    value = json.dumps({"type": "CreateBooking", "contact_email": "alice@example.com"}).encode()
    out = dead_letter("booking-commands", "bk-dlq-1", value, "INVALID", "bad quantity", [])
    producer = Producer({"bootstrap.servers": settings.kafka_bootstrap, "log_level": 3})
    producer.produce(
        settings.topic(out.topic), key=out.key.encode(), value=out.value, headers=out.headers
    )
    assert producer.flush(10) == 0
    return out.key.encode(), out.value


def test_dead_letters_browse_masked_and_replay_is_admin_only(
    ops: tuple[OpsProcess, Settings],
) -> None:
    process, settings = ops
    key, value = _dead_letter(settings)

    def browsed() -> list:
        records = process.get("/api/dead-letters?topic=booking-commands.dlq&limit=10").json()
        return records["records"]

    records = eventually(browsed, 20, "the dead letter in the browser")
    record = records[0]
    assert (record["topic"], record["key"], record["reason"]) == (
        "booking-commands.dlq",
        "bk-dlq-1",
        "INVALID",
    )
    assert "alice@example.com" not in json.dumps(records) and "a***@example.com" in record["value"]
    assert process.get("/api/dead-letters?topic=nope").status_code == 400

    target = {k: record[k] for k in ("topic", "partition", "offset")}
    assert process.post("/api/dead-letters/replay", json=target).status_code == 401
    user = mint_token(settings, "someone", "USER")
    denied = process.post(
        "/api/dead-letters/replay", json=target, headers={"Authorization": f"Bearer {user}"}
    )
    assert denied.status_code == 403
    admin = mint_token(settings, "operator-1", "ADMIN")
    done = process.post(
        "/api/dead-letters/replay", json=target, headers={"Authorization": f"Bearer {admin}"}
    )
    assert done.status_code == 200, done.text
    landed = done.json()["replayed"]
    assert landed["topic"] == "booking-commands"

    consumer = Consumer(
        {
            "bootstrap.servers": settings.kafka_bootstrap,
            "group.id": "ops-check",
            "auto.offset.reset": "earliest",
            "log_level": 3,
        }
    )
    consumer.subscribe([settings.topic("booking-commands")])
    got = []
    deadline = time.monotonic() + 20
    while not got and time.monotonic() < deadline:
        got = [m for m in consumer.consume(10, 0.5) if m.error() is None]
    consumer.close()
    assert [(m.key(), m.value(), m.offset()) for m in got] == [(key, value, landed["offset"])]
    headers = dict(got[0].headers())
    assert headers["x-replayed-by"] == b"operator-1"
    origin = f"booking-commands.dlq/{target['partition']}@{target['offset']}"
    assert headers["x-replayed-from"] == origin.encode()
    metrics = process.get("/metrics").text
    assert sample(metrics, "tessera_ops_dead_letter_replays_total", topic="booking-commands") == 1
    assert (
        sample(
            metrics,
            "tessera_ops_http_requests_total",
            route="/api/dead-letters/replay",
            status="403",
        )
        == 1
    )
