"""Issue 3's acceptance run: a flash sale through Kafka, with and without crashes."""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Iterator

import pytest

from load.system_harness import (
    RunningSystem,
    create_booking,
    send,
    start_system,
    stop_system,
    wait_until,
)
from schemas.base import Money
from schemas.inventory_commands import SetCapacity
from tessera.config import Settings

from .invariants import TERMINAL, assert_invariants

CAPACITY = 100
BUYERS = 1000


@pytest.fixture(scope="module")
def flash_system(stack: Settings) -> Iterator[RunningSystem]:
    running = start_system(stack)
    yield running
    stop_system(running)


def run_flash_sale(system: RunningSystem, during: threading.Thread | None = None) -> dict[str, str]:
    item_id = f"hot-{uuid.uuid4().hex[:8]}"
    send(
        system.settings,
        system.producer,
        [SetCapacity(item_id=item_id, capacity=CAPACITY, price=Money(4900, "USD"))],
    )
    wait_until(lambda: item_id in system.watcher.items, 60, "item created")
    commands = [
        create_booking(
            user_id=f"user-{n}", item_id=item_id, quantity=1, payment_method="pm_card_visa"
        )
        for n in range(BUYERS)
    ]
    bookings = {command.booking_id: (item_id, 1) for command in commands}
    if during is not None:
        during.start()
    send(system.settings, system.producer, commands)
    if during is not None:
        during.join()
    wait_until(
        lambda: all(system.watcher.status(b) in TERMINAL for b in bookings),
        240,
        "every booking to reach a terminal status",
    )
    outcomes = assert_invariants(system, bookings, {item_id: CAPACITY})
    assert outcomes == {"COMPLETED:": CAPACITY, "FAILED:SOLD_OUT": BUYERS - CAPACITY}
    return {b: str(system.watcher.status(b)) for b in bookings}


def test_flash_sale_sells_exactly_the_capacity(flash_system: RunningSystem) -> None:
    run_flash_sale(flash_system)


def test_flash_sale_survives_three_pipeline_crashes(flash_system: RunningSystem) -> None:
    pipelines, watcher = flash_system.pipelines, flash_system.watcher
    settled_at_kill: list[int] = []

    def crash_three_times() -> None:
        for role in ("saga", "inventory", "payment"):
            time.sleep(0.3)
            settled_at_kill.append(
                sum(str(b.status) in TERMINAL for b in watcher.bookings.values())
            )
            pipelines.kill(role)
            pipelines.start(role)

    before = len(watcher.bookings)
    run_flash_sale(flash_system, during=threading.Thread(target=crash_three_times))
    # The crashes hit a sale in progress, not one already over.
    assert settled_at_kill[0] - before < BUYERS, settled_at_kill
