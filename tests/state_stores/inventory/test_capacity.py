from __future__ import annotations

from schemas.base import Money
from schemas.inventory_commands import SetCapacity
from schemas.inventory_events import CapacityRejected, ItemSnapshot
from state_stores.base import InMemoryStore

from .factory import ITEM, PRICE, confirm, item_with, ledger_of, one, reserve, run, set_capacity


def test_set_capacity_creates_an_unknown_item() -> None:
    store = InMemoryStore()
    snapshot = one(run(store, set_capacity(10)), ItemSnapshot)
    assert (snapshot.item_id, snapshot.capacity, snapshot.price, snapshot.version) == (
        ITEM,
        10,
        PRICE,
        1,
    )
    assert snapshot.changed is None
    assert ledger_of(store).capacity == 10


def test_a_new_item_needs_a_price() -> None:
    store = InMemoryStore()
    rejected = one(run(store, set_capacity(10, price=None)), CapacityRejected)
    assert (rejected.reason, rejected.requested_capacity) == ("PRICE_REQUIRED", 10)
    assert len(store) == 0


def test_capacity_cannot_go_below_what_is_held_and_sold() -> None:
    store = item_with(capacity=10)
    run(store, reserve("a", quantity=3))
    run(store, reserve("b", quantity=2))
    run(store, confirm("b"))

    rejected = one(run(store, set_capacity(4)), CapacityRejected)
    assert (rejected.reason, rejected.held, rejected.sold) == ("BELOW_COMMITTED", 3, 2)
    assert ledger_of(store).capacity == 10
    assert one(run(store, set_capacity(5)), ItemSnapshot).capacity == 5


def test_negative_capacity_and_price_are_refused() -> None:
    store = item_with(capacity=1)
    assert one(run(store, set_capacity(-1)), CapacityRejected).reason == "NEGATIVE_CAPACITY"
    negative_price = set_capacity(3, price=Money(-1))
    assert one(run(store, negative_price), CapacityRejected).reason == "INVALID_PRICE"
    assert ledger_of(store).capacity == 1


def test_price_changes_only_when_given_and_applies_to_new_holds() -> None:
    store = item_with(capacity=5)
    run(store, SetCapacity(item_id=ITEM, capacity=6))
    assert ledger_of(store).price == PRICE
    run(store, set_capacity(6, price=Money(100, "EUR")))
    ledger = ledger_of(store)
    assert (ledger.price, ledger.capacity, ledger.version) == (Money(100, "EUR"), 6, 3)
