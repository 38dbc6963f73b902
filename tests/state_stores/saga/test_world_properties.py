"""Property: in a hostile world every saga ends final, and stock and money end consistent.

Hypothesis drives a chaos phase (answers authorized / declined / failed with or without
effect, random cancels and refunds, timers fired early or in any order, replies reordered
and delivered twice), then a calm phase in which deliveries are FIFO and the gateway
answers: every saga must then reach a final state within a bounded number of steps.
"""

from __future__ import annotations

from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from schemas.base import BookingStatus
from schemas.booking_commands import CancelBooking, RefundBooking
from schemas.booking_events import BookingChange
from schemas.saga_events import SagaStepChanged
from state_stores.inventory.state import load_ledger, load_reservation

from .gateway import Fate
from .world import Booking, World

CHAOS_ACTIONS = (
    "deliver",
    "deliver",
    "deliver_next",
    "deliver_next",
    "deliver_next",
    "duplicate",
    "fire",
    "fire_next",
    "fire_next",
    "cancel",
    "refund",
    "wait",
)
MAX_CALM_STEPS = 400


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    data=st.data(),
    capacity=st.integers(0, 4),
    quantities=st.lists(st.integers(1, 2), min_size=1, max_size=3),
    chaos_steps=st.lists(st.integers(0, 60), min_size=2, max_size=2),
)
def test_every_saga_ends_final_with_stock_and_money_consistent(
    data: st.DataObject, capacity: int, quantities: list[int], chaos_steps: list[int]
) -> None:
    calm = False

    def fate(operation: str) -> Fate:
        if calm:
            return "ok"
        fates: tuple[Fate, ...] = ("ok", "lost", "unreached")
        if operation in ("AUTHORIZE", "CAPTURE"):
            fates += ("declined",)
        return data.draw(st.sampled_from(fates), label=f"{operation} fate")

    world = World(quantities, capacity, fate)
    bookings = sorted(world.bookings)
    # Round two starts from final sagas: late cancels and refunds, in chaos again.
    for round_number, steps in enumerate(chaos_steps):
        if round_number > 0:
            for booking_id in bookings:
                request = data.draw(st.sampled_from((None, CancelBooking, RefundBooking)))
                if request is not None:
                    world.pending.append(request(booking_id=booking_id))
        # A calm head start lets chaos begin at any depth of the saga (capturing, say).
        calm = True
        for _ in range(data.draw(st.integers(0, 12), label="calm head start")):
            if world.pending:
                world.deliver(world.pending.pop(0))
        calm = False
        for _ in range(steps):
            chaos_step(world, data, bookings)
            check_stock(world)
        calm = True
        settle(world)
        assert world.violations == []
        for booking in world.bookings.values():
            check_booking(world, booking)

    # Which outcomes were reached: `pytest --hypothesis-show-statistics` lists them.
    for booking in world.bookings.values():
        state = booking.state
        assert state is not None
        event(f"{state.status.value} {state.reason}".strip())


def settle(world: World) -> None:
    """Deliver FIFO and fire due timers until every saga is final, within a bound."""
    for _ in range(MAX_CALM_STEPS):
        if world.pending:
            world.deliver(world.pending.pop(0))
        elif world.all_final():
            return
        else:
            assert world.timers, f"stuck with nothing in flight: {states(world)}"
            world.fire_earliest()
        check_stock(world)
    raise AssertionError(f"did not settle in {MAX_CALM_STEPS} steps: {states(world)}")


def chaos_step(world: World, data: st.DataObject, bookings: list[str]) -> None:
    action = data.draw(st.sampled_from(CHAOS_ACTIONS), label="action")
    if action == "deliver" and world.pending:
        index = data.draw(st.integers(0, len(world.pending) - 1), label="which")
        world.deliver(world.pending.pop(index))
    elif action == "deliver_next" and world.pending:
        world.deliver(world.pending.pop(0))
    elif action == "duplicate" and world.delivered:
        world.deliver(data.draw(st.sampled_from(world.delivered), label="again"))
    elif action == "fire_next" and world.timers:
        world.fire_earliest()
    elif action == "fire" and world.timers:
        world.fire(data.draw(st.integers(0, len(world.timers) - 1), label="timer"))
    elif action == "cancel":
        world.pending.append(CancelBooking(booking_id=data.draw(st.sampled_from(bookings))))
    elif action == "refund":
        world.pending.append(RefundBooking(booking_id=data.draw(st.sampled_from(bookings))))
    elif action == "wait":
        world.now += data.draw(st.integers(0, 120_000), label="ms")


def states(world: World) -> dict[str, str]:
    return {
        booking_id: "none" if booking.state is None else booking.state.phase
        for booking_id, booking in world.bookings.items()
    }


def check_stock(world: World) -> None:
    ledger = load_ledger(world.inventory)
    assert ledger is not None
    assert 0 <= ledger.held and 0 <= ledger.sold
    assert ledger.held + ledger.sold <= ledger.capacity


def check_booking(world: World, booking: Booking) -> None:
    state = booking.state
    assert state is not None
    final = state.phase
    reservation = load_reservation(world.inventory, booking.booking_id)
    payment = world.gateway.auths.get(f"pi_{booking.booking_id}")

    # Stock: a completed booking keeps its sale, anything else holds nothing.
    if final == "COMPLETED":
        assert state.status == BookingStatus.COMPLETED
        assert reservation is not None and reservation.status == "CONFIRMED"
        assert payment == "CAPTURED"
    else:
        assert reservation is None or reservation.status in ("REJECTED", "RELEASED", "EXPIRED")
        # No stranded money: every authorization voided, or captured and refunded.
        assert payment in (None, "VOIDED", "REFUNDED")
    assert world.gateway.captures[booking.booking_id] <= 1

    # The client-visible history: versions 1..n, ending with the final status.
    changes = [m for m in booking.outputs if isinstance(m, BookingChange)]
    assert [c.version for c in changes] == list(range(1, len(changes) + 1))
    assert changes[-1].status == state.status

    check_compensations(booking, final)
    check_requests_honoured(world, booking, final)


def check_requests_honoured(world: World, booking: Booking, final: str) -> None:
    """A cancel that found the booking in progress or completed, or a refund that found it
    completed, ends it CANCELLED; one that found it unwinding or final changes nothing."""
    honoured = {
        "CancelBooking": ("RESERVING", "AUTHORIZING", "CONFIRMING", "CAPTURING", "COMPLETED"),
        "RefundBooking": ("COMPLETED",),
    }
    for booking_id, request, phase in world.requests:
        if booking_id == booking.booking_id and phase in honoured[request]:
            assert final == "CANCELLED", f"{request} in {phase} ended {final}"


def check_compensations(booking: Booking, final: str) -> None:
    """Compensations ran once each, in reverse order of the actions they undo."""
    steps = [m for m in booking.outputs if isinstance(m, SagaStepChanged)]
    started = {s.step for s in steps if s.action == "ACTION" and s.status == "STARTED"}
    succeeded = {s.step for s in steps if s.action == "ACTION" and s.status == "SUCCEEDED"}
    undone = [
        s.step
        for s in steps
        if s.status == "SUCCEEDED"
        and s.step in ("RELEASE_INVENTORY", "VOID_PAYMENT", "REFUND_PAYMENT")
    ]
    assert len(undone) == len(set(undone))
    if final == "COMPLETED":
        assert undone == []
        return
    if "RELEASE_INVENTORY" in undone:
        assert "RESERVE_INVENTORY" in started
        assert undone[-1] == "RELEASE_INVENTORY"  # registered first, so undone last
    if "VOID_PAYMENT" in undone:
        assert "AUTHORIZE_PAYMENT" in started
    if "REFUND_PAYMENT" in undone:
        assert "CAPTURE_PAYMENT" in succeeded
    assert not {"VOID_PAYMENT", "REFUND_PAYMENT"} <= set(undone)
    # A booking that took money and ended unpaid must have given it back.
    if "CAPTURE_PAYMENT" in succeeded:
        assert "REFUND_PAYMENT" in undone
