"""The invariants a benchmark run must leave intact, checked after every scenario.

- no oversell: for every item sold + held <= capacity, and sold == the quantity of its
  COMPLETED bookings;
- one capture per confirmed booking: exactly one capture for each COMPLETED booking and
  none for any other;
- nothing stuck: every accepted booking reached a terminal status.

Tessera is checked twice: on the Kafka record (booking-events, inventory-snapshots,
payment-events, as the Watcher saw them) and on what the sinks materialized in PostgreSQL
(bookings, inventory, payments, payment_transactions), once they converged. The baseline is
checked on its own database.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Iterable
from typing import Any

import psycopg

from load.system_harness import Watcher
from schemas.payment_events import PaymentCaptured
from tessera.config import Settings

TERMINAL = {"COMPLETED", "FAILED", "CANCELLED"}
SAMPLE = 5


def _verdict(report: dict[str, Any], keys: Iterable[str]) -> dict[str, Any]:
    report["ok"] = all(not report[k] for k in keys)
    return report


def check_tessera_log(
    watcher: Watcher, items: dict[str, int], accepted: set[str]
) -> dict[str, Any]:
    """On the Kafka record. `items`: item -> capacity; `accepted`: booking ids answered 2xx."""
    bookings, snapshots, payments = watcher.snapshot()
    mine = {b: e for b, e in bookings.items() if e.item_id in items}
    never_seen = sorted(b for b in accepted if b not in bookings)
    stuck = sorted(b for b, e in mine.items() if str(e.status) not in TERMINAL)
    sold_by_item: Counter[str] = Counter()
    for event in mine.values():
        if str(event.status) == "COMPLETED":
            sold_by_item[event.item_id] += event.quantity
    oversold, mismatched, unknown_items = [], [], []
    for item in items:
        snap = snapshots.get(item)
        if snap is None:
            unknown_items.append(item)
            continue
        if snap.sold + snap.held > snap.capacity:
            oversold.append({"item": item, "capacity": snap.capacity, "held": snap.held,
                             "sold": snap.sold})  # fmt: skip
        if snap.sold != sold_by_item[item] or (not stuck and snap.held != 0):
            mismatched.append({"item": item, "sold": snap.sold, "held": snap.held,
                               "completed": sold_by_item[item]})  # fmt: skip
    captures = {b: sum(isinstance(p, PaymentCaptured) for p in payments.get(b, ())) for b in mine}
    completed = {b for b, e in mine.items() if str(e.status) == "COMPLETED"}
    outcomes = Counter(str(e.status) + (f":{e.reason}" if e.reason else "") for e in mine.values())
    report = {
        "bookings": len(mine),
        "outcomes": dict(outcomes),
        "not_seen": len(never_seen),
        "not_seen_sample": never_seen[:SAMPLE],
        "stuck": len(stuck),
        "stuck_sample": [(b, str(mine[b].status)) for b in stuck[:SAMPLE]],
        "oversold_items": oversold[:SAMPLE],
        "sold_mismatch": mismatched[:SAMPLE],
        "items_without_snapshot": unknown_items[:SAMPLE],
        "completed_without_one_capture": sorted(b for b in completed if captures[b] != 1)[:SAMPLE],
        "captures_without_completion": sorted(
            b for b, n in captures.items() if n and b not in completed
        )[:SAMPLE],
    }
    return _verdict(
        report,
        ("not_seen", "stuck", "oversold_items", "sold_mismatch", "items_without_snapshot",
         "completed_without_one_capture", "captures_without_completion"),
    )  # fmt: skip


def check_tessera_postgres(
    settings: Settings, watcher: Watcher, items: dict[str, int], timeout_s: float = 60.0
) -> dict[str, Any]:
    """On the sinks' tables, after waiting (bounded) for them to match the Kafka record."""
    bookings, snapshots, _ = watcher.snapshot()
    mine = {b: str(e.status) for b, e in bookings.items() if e.item_id in items}
    ids = list(mine)
    started = time.monotonic()
    lagging = len(ids)
    while True:
        with psycopg.connect(settings.postgres_dsn("booking"), autocommit=True) as conn:
            rows = conn.execute(
                "SELECT booking_id, status FROM bookings WHERE booking_id = ANY(%s)", (ids,)
            ).fetchall()
        stored = dict(rows)
        lagging = sum(1 for b, s in mine.items() if stored.get(b) != s)
        if lagging == 0 or time.monotonic() - started > timeout_s:
            break
        time.sleep(1.0)
    converged_s = round(time.monotonic() - started, 1)
    with psycopg.connect(settings.postgres_dsn("inventory"), autocommit=True) as conn:
        inventory = conn.execute(
            "SELECT item_id, capacity, held, sold FROM inventory WHERE item_id = ANY(%s)",
            (list(items),),
        ).fetchall()
    with psycopg.connect(settings.postgres_dsn("payment"), autocommit=True) as conn:
        payments = dict(
            conn.execute(
                "SELECT booking_id, captured_count FROM payments WHERE booking_id = ANY(%s)",
                (ids,),
            ).fetchall()
        )
        captures = dict(
            conn.execute(
                "SELECT booking_id, count(*) FROM payment_transactions"
                " WHERE booking_id = ANY(%s) AND operation = 'CAPTURE'"
                " AND outcome = 'SUCCEEDED' GROUP BY booking_id",
                (ids,),
            ).fetchall()
        )
    completed_by_item: Counter[str] = Counter()
    for booking_id, status in stored.items():
        if status == "COMPLETED":
            completed_by_item[bookings[booking_id].item_id] += bookings[booking_id].quantity
    oversold = [r for r in inventory if r[2] + r[3] > r[1]]
    mismatch = [r for r in inventory if r[3] != completed_by_item[r[0]]]
    completed = {b for b, s in stored.items() if s == "COMPLETED"}
    bad_capture = [b for b in completed if payments.get(b) != 1 or captures.get(b, 0) != 1] + [
        b for b, n in captures.items() if n and b not in completed
    ]
    report = {
        "converged_after_s": converged_s,
        "not_converged": lagging,
        "rows": len(stored),
        "inventory_rows": len(inventory),
        "missing_inventory_rows": len(items) - len(inventory),
        "oversold_items": [list(r) for r in oversold[:SAMPLE]],
        "sold_mismatch": [list(r) for r in mismatch[:SAMPLE]],
        "capture_mismatch": sorted(bad_capture)[:SAMPLE],
    }
    del snapshots
    return _verdict(
        report,
        ("not_converged", "missing_inventory_rows", "oversold_items", "sold_mismatch",
         "capture_mismatch"),
    )  # fmt: skip


def check_baseline(dsn: str, items: dict[str, int], accepted: set[str]) -> dict[str, Any]:
    """On the baseline's database: the same three invariants."""
    item_ids = list(items)
    with psycopg.connect(dsn, autocommit=True) as conn:
        rows = conn.execute(
            "SELECT booking_id, item_id, quantity, status, reason FROM bookings"
            " WHERE item_id = ANY(%s)",
            (item_ids,),
        ).fetchall()
        inventory = conn.execute(
            "SELECT item_id, capacity, held, sold FROM inventory WHERE item_id = ANY(%s)",
            (item_ids,),
        ).fetchall()
        captures = dict(
            conn.execute(
                "SELECT t.booking_id, count(*) FROM payment_transactions t"
                " JOIN bookings b USING (booking_id) WHERE b.item_id = ANY(%s)"
                " AND t.operation = 'CAPTURE' AND t.outcome = 'SUCCEEDED'"
                " GROUP BY t.booking_id",
                (item_ids,),
            ).fetchall()
        )
        captured_rows = dict(
            conn.execute(
                "SELECT p.booking_id, p.captured_count FROM payments p"
                " JOIN bookings b USING (booking_id) WHERE b.item_id = ANY(%s)",
                (item_ids,),
            ).fetchall()
        )
    stored = {r[0]: r for r in rows}
    sold_by_item: Counter[str] = Counter()
    for _, item, quantity, status, _ in rows:
        if status == "COMPLETED":
            sold_by_item[item] += quantity
    stuck = sorted(r[0] for r in rows if r[3] not in TERMINAL)
    oversold = [r for r in inventory if r[2] + r[3] > r[1]]
    mismatch = [r for r in inventory if r[3] != sold_by_item[r[0]] or (not stuck and r[2] != 0)]
    completed = {r[0] for r in rows if r[3] == "COMPLETED"}
    bad_capture = [b for b in completed if captures.get(b, 0) != 1 or captured_rows.get(b) != 1] + [
        b for b, n in captures.items() if n and b not in completed
    ]
    missing = sorted(b for b in accepted if b not in stored)
    report = {
        "bookings": len(rows),
        "outcomes": dict(Counter(r[3] + (f":{r[4]}" if r[4] else "") for r in rows)),
        "not_stored": len(missing),
        "not_stored_sample": missing[:SAMPLE],
        "stuck": len(stuck),
        "stuck_sample": stuck[:SAMPLE],
        "missing_inventory_rows": len(items) - len(inventory),
        "oversold_items": [list(r) for r in oversold[:SAMPLE]],
        "sold_mismatch": [list(r) for r in mismatch[:SAMPLE]],
        "capture_mismatch": sorted(bad_capture)[:SAMPLE],
    }
    return _verdict(
        report,
        ("not_stored", "stuck", "missing_inventory_rows", "oversold_items", "sold_mismatch",
         "capture_mismatch"),
    )  # fmt: skip
