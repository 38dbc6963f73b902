"""DESIGN.md's invariants, checked from what the system published and the gateway's books."""

from __future__ import annotations

from collections import Counter
from typing import Any

from load.system_harness import RunningSystem

TERMINAL = {"COMPLETED", "CANCELLED", "FAILED"}


def assert_invariants(
    system: RunningSystem, bookings: dict[str, tuple[str, int]], capacities: dict[str, int]
) -> Counter[str]:
    """`bookings`: booking id -> (item id, quantity). Returns the outcome counts."""
    watcher = system.watcher
    outcomes: Counter[str] = Counter()
    sold: Counter[str] = Counter()
    for booking_id, (item_id, quantity) in bookings.items():
        booking = watcher.bookings[booking_id]
        status = str(booking.status)
        assert status in TERMINAL, f"{booking_id} stuck in {status}"  # 4: every saga terminal
        outcomes[f"{status}:{booking.reason}"] += 1
        if status == "COMPLETED":
            sold[item_id] += quantity
    for item_id, capacity in capacities.items():
        item = watcher.items[item_id]
        assert item.held == 0, f"{item_id} still holds {item.held}"
        assert item.sold == sold[item_id], f"{item_id}: ledger {item.sold} != bookings"
        assert item.sold <= capacity  # 1: no oversell
    _assert_money(system.gateway.audit(), watcher.bookings, bookings)
    return outcomes


def _assert_money(
    audit: dict[str, Any], final: dict[str, Any], bookings: dict[str, tuple[str, int]]
) -> None:
    for booking_id in bookings:
        books = audit.get(booking_id)
        status = str(final[booking_id].status)
        if books is None:
            assert status != "COMPLETED", f"{booking_id} completed without a payment"
            continue
        # 2: no double charge, and a capture only for a booking that got confirmed
        assert books["captures"] <= 1, f"{booking_id} captured {books['captures']} times"
        if status == "COMPLETED":
            assert books["captures"] == 1 and books["refunds"] == 0
        elif books["captures"]:
            assert books["refunds"] == 1, f"{booking_id} {status} but captured, not refunded"
        # 3: no stranded money: every authorization ends captured, voided or refunded
        for ref, payment in books["payments"].items():
            assert payment["state"] != "AUTHORIZED", f"{booking_id} left {ref} authorized"
