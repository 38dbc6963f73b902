from __future__ import annotations

import msgspec

from schemas.base import Money
from schemas.inventory_commands import ExpireHold
from schemas.inventory_events import InventoryReserved, ItemSnapshot, ReservationRejected
from schemas.timers import ScheduleTimer
from state_stores.base import InMemoryStore
from state_stores.inventory import decide

from .factory import (
    EXPIRES,
    ITEM,
    NOW,
    expire,
    item_with,
    ledger_of,
    one,
    release,
    reservation_of,
    reserve,
    run,
    types,
)


def test_a_reserve_holds_stock_and_answers_with_amount_timer_and_snapshot() -> None:
    store = item_with(capacity=10)
    command = reserve("b-1", quantity=3)
    outputs = run(store, command)

    assert types(outputs) == ["InventoryReserved", "ScheduleTimer", "ItemSnapshot"]
    reply = one(outputs, InventoryReserved)
    assert (reply.item_id, reply.booking_id, reply.quantity) == (ITEM, "b-1", 3)
    assert reply.amount == Money(7_500, "USD")
    assert reply.hold_expires_at == EXPIRES
    assert (reply.causation_id, reply.correlation_id) == (command.message_id, command.message_id)
    assert reply.occurred_at == NOW

    ledger = ledger_of(store)
    assert (ledger.held, ledger.sold, ledger.version) == (3, 0, 2)
    snapshot = one(outputs, ItemSnapshot)
    assert (snapshot.held, snapshot.version) == (3, 2)
    assert snapshot.changed is not None
    assert (snapshot.changed.booking_id, snapshot.changed.status) == ("b-1", "HELD")


def test_the_hold_timer_sends_expire_hold_back_to_the_item_at_expiry() -> None:
    timer = one(run(item_with(capacity=1), reserve("b-1")), ScheduleTimer)
    assert timer.timer_id == f"hold:b-1:{EXPIRES}"
    assert (timer.due_at, timer.target_topic, timer.target_key) == (
        EXPIRES,
        "inventory-commands",
        ITEM,
    )
    expire = msgspec.json.decode(timer.payload, type=ExpireHold)
    assert (expire.item_id, expire.booking_id, expire.hold_expires_at) == (ITEM, "b-1", EXPIRES)


def test_reserving_is_all_or_nothing() -> None:
    store = item_with(capacity=5)
    run(store, reserve("b-1", quantity=4))
    outputs = run(store, reserve("b-2", quantity=2))

    assert types(outputs) == ["ReservationRejected"]
    rejected = one(outputs, ReservationRejected)
    assert (rejected.reason, rejected.available, rejected.booking_id) == ("SOLD_OUT", 1, "b-2")
    assert ledger_of(store).held == 4
    record = reservation_of(store, "b-2")
    assert record is not None and record.status == "REJECTED"


def test_an_unknown_item_is_rejected() -> None:
    rejected = one(run(InMemoryStore(), reserve("b-1")), ReservationRejected)
    assert (rejected.reason, rejected.item_id) == ("UNKNOWN_ITEM", ITEM)


def test_a_duplicate_reserve_answers_the_same_and_changes_nothing() -> None:
    store = item_with(capacity=5)
    first = one(run(store, reserve("b-1", quantity=2)), InventoryReserved)
    before = dict((key, store.get(key)) for key in store.keys())

    outputs = run(store, reserve("b-1", quantity=2))

    assert types(outputs) == ["InventoryReserved"]
    again = one(outputs, InventoryReserved)
    assert (again.amount, again.hold_expires_at, again.quantity) == (
        first.amount,
        first.hold_expires_at,
        first.quantity,
    )
    assert dict((key, store.get(key)) for key in store.keys()) == before


def test_a_duplicate_of_a_rejected_reserve_is_rejected_even_after_stock_frees_up() -> None:
    store = item_with(capacity=1)
    run(store, reserve("b-1"))
    run(store, reserve("b-2"))
    run(store, expire("b-1"))

    rejected = one(run(store, reserve("b-2")), ReservationRejected)
    assert (rejected.reason, rejected.available) == ("SOLD_OUT", 0)
    assert ledger_of(store).held == 0


def test_a_duplicate_reserve_after_expiry_or_release_is_rejected() -> None:
    store = item_with(capacity=3)
    run(store, reserve("expired"))
    run(store, reserve("released"))
    run(store, expire("expired"))
    run(store, release("released"))

    assert one(run(store, reserve("expired")), ReservationRejected).reason == "HOLD_EXPIRED"
    assert one(run(store, reserve("released")), ReservationRejected).reason == "NOT_HELD"
    assert ledger_of(store).held == 0


def test_decide_is_deterministic() -> None:
    ledger = ledger_of(item_with(capacity=2))
    command = reserve("b-1")
    assert decide(ledger, None, command, NOW) == decide(ledger, None, command, NOW)
