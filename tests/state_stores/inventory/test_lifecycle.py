from __future__ import annotations

from schemas.inventory_events import (
    HoldExpired,
    ItemSnapshot,
    ReservationConfirmed,
    ReservationRejected,
    ReservationReleased,
)
from state_stores.base import InMemoryStore

from .factory import (
    EXPIRES,
    confirm,
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


def held(quantity: int = 2, capacity: int = 10) -> InMemoryStore:
    store = item_with(capacity)
    run(store, reserve("b-1", quantity=quantity))
    return store


def status_of(store: InMemoryStore, booking: str = "b-1") -> str:
    reservation = reservation_of(store, booking)
    assert reservation is not None
    return reservation.status


# -- confirm


def test_confirm_moves_a_hold_to_sold() -> None:
    store = held(quantity=2)
    command = confirm("b-1")
    outputs = run(store, command)

    assert types(outputs) == ["ReservationConfirmed", "ItemSnapshot"]
    reply = one(outputs, ReservationConfirmed)
    assert (reply.booking_id, reply.quantity, reply.causation_id) == ("b-1", 2, command.message_id)
    ledger = ledger_of(store)
    assert (ledger.held, ledger.sold, ledger.version) == (0, 2, 3)
    assert status_of(store) == "CONFIRMED"
    snapshot = one(outputs, ItemSnapshot)
    assert snapshot.changed is not None and snapshot.changed.status == "CONFIRMED"


def test_a_duplicate_confirm_answers_again_without_selling_twice() -> None:
    store = held(quantity=2)
    run(store, confirm("b-1"))
    outputs = run(store, confirm("b-1"))
    assert types(outputs) == ["ReservationConfirmed"]
    assert ledger_of(store).sold == 2


def test_confirming_an_expired_hold_is_refused() -> None:
    store = held()
    run(store, expire("b-1"))
    rejected = one(run(store, confirm("b-1")), ReservationRejected)
    assert rejected.reason == "HOLD_EXPIRED"
    assert ledger_of(store).sold == 0


def test_a_hold_past_its_expiry_is_expired_by_the_confirm_itself() -> None:
    store = held(quantity=2)
    outputs = run(store, confirm("b-1"), now=EXPIRES)
    assert types(outputs) == ["ReservationRejected", "ItemSnapshot"]
    assert one(outputs, ReservationRejected).reason == "HOLD_EXPIRED"
    assert (ledger_of(store).held, status_of(store)) == (0, "EXPIRED")
    # The timer firing later finds nothing to do.
    assert run(store, expire("b-1")) == []


def test_confirming_what_was_never_held_is_refused() -> None:
    store = item_with(capacity=1)
    assert one(run(store, confirm("nobody")), ReservationRejected).reason == "NOT_HELD"
    run(store, reserve("b-1"))
    run(store, release("b-1"))
    assert one(run(store, confirm("b-1")), ReservationRejected).reason == "NOT_HELD"


def test_confirming_on_an_unknown_item_is_refused() -> None:
    assert one(run(InMemoryStore(), confirm("b-1")), ReservationRejected).reason == "UNKNOWN_ITEM"


# -- release


def test_release_gives_a_hold_back() -> None:
    store = held(quantity=2)
    command = release("b-1", reason="PAYMENT_DECLINED")
    outputs = run(store, command)
    assert types(outputs) == ["ReservationReleased", "ItemSnapshot"]
    reply = one(outputs, ReservationReleased)
    assert (reply.quantity, reply.reason, reply.causation_id) == (
        2,
        "PAYMENT_DECLINED",
        command.message_id,
    )
    assert (ledger_of(store).held, status_of(store)) == (0, "RELEASED")


def test_release_after_confirmation_gives_sold_stock_back() -> None:
    store = held(quantity=2)
    run(store, confirm("b-1"))
    assert one(run(store, release("b-1")), ReservationReleased).quantity == 2
    ledger = ledger_of(store)
    assert (ledger.held, ledger.sold) == (0, 0)


def test_release_of_nothing_held_is_acknowledged_with_zero() -> None:
    store = held()
    run(store, release("b-1"))
    for booking in ("b-1", "unknown"):
        outputs = run(store, release(booking))
        assert types(outputs) == ["ReservationReleased"]
        assert one(outputs, ReservationReleased).quantity == 0
    assert one(run(InMemoryStore(), release("b-1")), ReservationReleased).quantity == 0


# -- expire


def test_expiry_frees_a_hold_that_is_still_held() -> None:
    store = held(quantity=3)
    outputs = run(store, expire("b-1"), now=EXPIRES)
    assert types(outputs) == ["HoldExpired", "ItemSnapshot"]
    assert one(outputs, HoldExpired).quantity == 3
    assert (ledger_of(store).held, status_of(store)) == (0, "EXPIRED")


def test_a_stale_expiry_is_ignored() -> None:
    store = held()
    assert run(store, expire("b-1", expires_at=EXPIRES - 1)) == []
    run(store, confirm("b-1"))
    assert run(store, expire("b-1")) == []
    assert run(store, expire("nobody")) == []
    assert run(InMemoryStore(), expire("b-1")) == []
    assert (ledger_of(store).held, ledger_of(store).sold) == (0, 2)


def test_every_change_bumps_the_snapshot_version() -> None:
    store = item_with(capacity=5)
    versions = [
        one(run(store, command), ItemSnapshot).version
        for command in (reserve("a"), reserve("b"), confirm("a"), release("b"), release("a"))
    ]
    assert versions == [2, 3, 4, 5, 6]
