"""Property: whatever the order of commands, the ledger never oversells and its totals
always equal the sum of its reservations."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from schemas.base import Money
from schemas.inventory_commands import InventoryCommand, SetCapacity
from schemas.inventory_events import InventoryReserved, ItemSnapshot
from state_stores.base import InMemoryStore
from state_stores.inventory.state import load_ledger, load_reservation

from .factory import EXPIRES, ITEM, NOW, confirm, expire, release, reserve, run

BOOKINGS = ("b-1", "b-2", "b-3", "b-4")
bookings = st.sampled_from(BOOKINGS)
expiries = st.sampled_from((EXPIRES, EXPIRES + 1_000))

commands: st.SearchStrategy[InventoryCommand] = st.one_of(
    st.builds(reserve, bookings, st.integers(1, 4), expiries),
    st.builds(confirm, bookings),
    st.builds(release, bookings),
    st.builds(expire, bookings, expiries),
    st.builds(
        SetCapacity,
        item_id=st.just(ITEM),
        capacity=st.integers(-1, 8),
        price=st.one_of(st.none(), st.just(Money(500))),
    ),
)


def check_invariants(store: InMemoryStore) -> None:
    ledger = load_ledger(store)
    if ledger is None:
        return
    reservations = [load_reservation(store, booking) for booking in BOOKINGS]
    held = sum(r.quantity for r in reservations if r is not None and r.status == "HELD")
    sold = sum(r.quantity for r in reservations if r is not None and r.status == "CONFIRMED")
    assert ledger.held == held
    assert ledger.sold == sold
    assert ledger.held >= 0 and ledger.sold >= 0 and ledger.capacity >= 0
    assert ledger.held + ledger.sold <= ledger.capacity


@settings(max_examples=300, deadline=None)
@given(
    steps=st.lists(st.tuples(commands, st.integers(0, 700_000)), max_size=40),
    start_with_item=st.booleans(),
)
def test_no_oversell_and_totals_match_reservations(
    steps: list[tuple[InventoryCommand, int]], start_with_item: bool
) -> None:
    store = InMemoryStore()
    if start_with_item:
        run(store, SetCapacity(item_id=ITEM, capacity=4, price=Money(500)))
    now = NOW
    last_version = 0
    for command, elapsed in steps:
        now += elapsed // 10
        outputs = run(store, command, now)
        check_invariants(store)
        for output in outputs:
            if isinstance(output, ItemSnapshot):
                assert output.version > last_version
                last_version = output.version
            if isinstance(output, InventoryReserved):
                reservation = load_reservation(store, output.booking_id)
                assert reservation is not None
                assert reservation.status in ("HELD", "CONFIRMED")
