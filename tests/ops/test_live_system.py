"""The ops view of a running system: the pipelines and sinks as real processes, the ops
process beside them. A booking is one trace; `tessera trace` shows its whole journey; every
process's /metrics carries the issue's metrics; the operator page in headless Chromium
shows lag changing while load runs (screenshot in test-artifacts/)."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import psycopg
import pytest

from load.system_harness import (
    RunningSystem,
    create_booking,
    producer_for,
    start_system,
    stop_system,
    wait_until,
)
from pipelines.runtime.outputs import route
from tessera.config import PROJECT_ROOT, Settings
from tessera.runtime.processes import metrics_port_of
from tests.integration.test_booking_saga import new_item

from .chromium import Chromium
from .support import OpsProcess, commit_group, metric_names

ROLES = ("timers", "inventory", "saga", "payment", "sink-postgres", "sink-redis")
PARENT_TRACE = "4bf92f3577b34da6a3ce929d0e0e4736"
CREATED = "[data-stage=created]"
SCREENSHOT = PROJECT_ROOT / "test-artifacts" / "ops-dashboard.png"


@pytest.fixture(scope="module")
def live(stack: Settings) -> Iterator[tuple[RunningSystem, OpsProcess]]:
    system = start_system(stack, roles=ROLES)
    try:
        ops = OpsProcess(system.pipelines.settings)  # the ops port: offset 0 of the block
    except BaseException:
        stop_system(system)
        raise
    yield system, ops
    ops.stop()
    stop_system(system)


def book(system: RunningSystem, item_id: str, traceparent: str | None = None) -> str:
    command = create_booking(
        user_id="u-ops", item_id=item_id, quantity=1, payment_method="pm_card_visa"
    )
    booking_id = command.booking_id
    out = route(command)
    headers = [("traceparent", traceparent.encode())] if traceparent else []
    system.producer.produce(
        system.settings.topic(out.topic), key=out.key.encode(), value=out.value, headers=headers
    )
    assert system.producer.flush(10) == 0
    return booking_id


def row_status(settings: Settings, booking_id: str) -> str | None:
    with psycopg.connect(settings.postgres_dsn("booking")) as conn:
        found = conn.execute("SELECT status FROM bookings WHERE booking_id = %s", (booking_id,))
        row = found.fetchone()
    return None if row is None else row[0]


def test_a_booking_is_one_trace_and_tessera_trace_shows_its_journey(
    live: tuple[RunningSystem, OpsProcess],
) -> None:
    system, ops = live
    item_id = new_item(system, capacity=5)
    booking_id = book(system, item_id, f"00-{PARENT_TRACE}-00f067aa0ba902b7-01")
    system.watcher.wait_status(booking_id, {"COMPLETED"})
    wait_until(lambda: row_status(system.settings, booking_id) == "COMPLETED", 60, "rows")

    env = {**os.environ, **system.pipelines.settings.to_env()}
    started = time.monotonic()
    run = subprocess.run(  # noqa: S603 - what `tessera trace` runs
        [sys.executable, "-m", "tessera.ops.trace_cli", booking_id],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    elapsed = time.monotonic() - started
    assert run.returncode == 0, run.stderr[-3000:]
    text = run.stdout
    print(text, f"\n(tessera trace took {elapsed:.1f}s)")
    assert f"trace {PARENT_TRACE}" in text.splitlines()[0]  # one booking, one trace
    for topic, kind, pipeline in [
        ("booking-commands", "CreateBooking", "saga"),
        ("inventory-commands", "ReserveInventory", "inventory"),
        ("inventory-events", "InventoryReserved", "saga"),
        ("payment-commands", "AuthorizePayment", "payment, sink-postgres"),
        ("payment-events", "PaymentAuthorized", "saga, sink-postgres"),
        ("payment-commands", "CapturePayment", "payment, sink-postgres"),
        ("payment-events", "PaymentCaptured", "saga, sink-postgres"),
        ("booking-events", "BookingCompleted", "sink-postgres, sink-redis"),
        ("saga-events", "SagaStepChanged", "sink-postgres"),
        ("inventory-snapshots", "ItemSnapshot", "sink-postgres, sink-redis"),
        ("bookings", "COMPLETED", "sink-postgres"),
        ("booking_history", "PENDING", "sink-postgres"),
        ("payments", "CAPTURED", "sink-postgres"),
        ("saga_steps", "SUCCEEDED", "sink-postgres"),
    ]:
        assert any(
            line.split()[2].startswith(topic) and kind in line and f"-> {pipeline} " in line
            for line in text.splitlines()[1:]
        ), f"{topic} {kind} {pipeline} missing from:\n{text}"

    started = time.monotonic()
    trip = ops.get(f"/trace/{booking_id}?format=json", timeout=90).json()
    print(f"/trace json took {time.monotonic() - started:.1f}s")
    kafka = [e for e in trip["entries"] if e["source"] == "kafka"]
    assert trip["trace_ids"] == [PARENT_TRACE]
    hops = [e for e in kafka if e["topic"] != "booking-commands"]
    assert hops and all(e["trace_id"] == PARENT_TRACE for e in hops if e["trace_id"])
    assert len({e["span_id"] for e in hops}) > 3  # a new span per hop, not the client's
    times = [e["at"] for e in trip["entries"]]
    assert times == sorted(times)
    page = ops.get(f"/trace/{booking_id}")
    assert page.status_code == 200 and "Booking journey" in page.text


PIPELINE_METRICS = {
    "tessera_pipeline_messages_total",
    "tessera_pipeline_errors_total",
    "tessera_pipeline_dead_letters_total",
    "tessera_pipeline_processing_seconds",
    "tessera_pipeline_commit_seconds",
    "tessera_process_info",
}
SINK_METRICS = {
    "tessera_sink_records_total",
    "tessera_sink_errors_total",
    "tessera_sink_batch_seconds",
    "tessera_sink_commit_seconds",
    "tessera_process_info",
}
OPS_METRICS = {
    "tessera_consumer_lag",
    "tessera_dead_letter_depth",
    "tessera_bookings",
    "tessera_saga_funnel",
    "tessera_saga_compensations",
    "tessera_payment_conversion_ratio",
    "tessera_oldest_pending_booking_age_seconds",
    "tessera_stuck_bookings",
    "tessera_ops_http_requests_total",
    "tessera_ops_http_request_seconds",
    "tessera_ops_errors_total",
    "tessera_process_info",
}


def test_every_process_exposes_the_metrics_of_the_issue(
    live: tuple[RunningSystem, OpsProcess],
) -> None:
    system, ops = live
    item_id = new_item(system, capacity=2)
    system.watcher.wait_status(book(system, item_id), {"COMPLETED"})
    settings = system.pipelines.settings
    for role in ROLES:
        component = system.pipelines.components[role]
        port = metrics_port_of(settings, component.role)
        body = httpx.get(f"http://127.0.0.1:{port}/metrics", timeout=10).text
        wanted = SINK_METRICS if role.startswith("sink-") else PIPELINE_METRICS
        assert wanted <= metric_names(body), f"{role}: missing {wanted - metric_names(body)}"
        if not role.startswith("sink-") and role != "timers":
            assert f'tessera_pipeline_commit_seconds_count{{pipeline="{role}",trigger=' in body
            assert f'tessera_pipeline_messages_total{{pipeline="{role}"' in body
    body = ops.get("/metrics").text
    assert OPS_METRICS <= metric_names(body), f"ops: missing {OPS_METRICS - metric_names(body)}"
    saga_group = settings.topic("tessera-saga")
    assert f'tessera_consumer_lag{{group="{saga_group}"' in body


def drive_load(system: RunningSystem, items: list[str], seconds: float) -> threading.Thread:
    def run() -> None:
        producer = producer_for(system.settings)
        deadline = time.monotonic() + seconds
        n = 0
        while time.monotonic() < deadline:
            command = create_booking(
                user_id="u-load",
                item_id=items[n % len(items)],
                quantity=1,
                payment_method="pm_card_visa",
            )
            out = route(command)
            producer.produce(
                system.settings.topic(out.topic), key=out.key.encode(), value=out.value
            )
            producer.poll(0)
            n += 1
            time.sleep(0.01)
        producer.flush(30)

    thread = threading.Thread(target=run, name="load", daemon=True)
    thread.start()
    return thread


LAG_JS = (
    "Object.fromEntries([...document.querySelectorAll('[data-lag-group]')]"
    ".map((e) => [e.dataset.lagGroup, Number(e.dataset.lag)]))"
)


def test_operator_page_in_headless_chromium_shows_lag_changing_under_load(
    live: tuple[RunningSystem, OpsProcess],
) -> None:
    system, ops = live
    # A consumer group of this deployment that stopped at offset 0 (an operator's nightmare):
    # its lag can only grow while the load runs.
    stalled = system.settings.topic("tessera-stalled")
    commit_group(system.settings, stalled, "booking-commands", {0: 0, 1: 0, 2: 0})
    items = [new_item(system, capacity=100_000) for _ in range(3)]
    load = drive_load(system, items, seconds=10)
    browser = Chromium()
    try:
        browser.navigate(ops.url + "/")
        browser.wait_for("document.querySelectorAll('[data-lag-group]').length >= 5")
        time.sleep(3)
        first = browser.evaluate(LAG_JS)
        time.sleep(4)
        second = browser.evaluate(LAG_JS)
        load.join(30)
        time.sleep(3)  # the last load records reach the page; the stuck/funnel tables fill
        status = browser.evaluate("document.getElementById('updated').textContent")
        browser.screenshot(SCREENSHOT)
        browser.wait_for(f"!!document.querySelector('{CREATED}')", 10)
        created = int(
            browser.evaluate("document.querySelector('[data-stage=created]').textContent")
        )
        charts = browser.evaluate("document.querySelectorAll('#lag-groups polyline').length")
        browser.screenshot(SCREENSHOT)
    finally:
        browser.close()
    print("lag read 1:", first, "\nlag read 2:", second, "\npage status:", status)
    for group in ("tessera-saga", "tessera-inventory", "tessera-payment", "tessera-stalled"):
        assert group in first and group in second, (group, first)
    assert 0 < first["tessera-stalled"] < second["tessera-stalled"]  # values appear and change
    assert created > 0 and charts > 0
    assert SCREENSHOT.stat().st_size > 20_000
    assert Path(SCREENSHOT).exists()
