from __future__ import annotations

from schemas.base import BookingStatus
from schemas.booking_events import BookingCancelled, BookingConfirmed, BookingRefunded
from schemas.inventory_commands import ReleaseReservation
from schemas.payment_commands import RefundPayment, VoidPayment
from schemas.saga_events import SagaStepChanged
from state_stores.saga import SagaPolicy

from .driver import BOOKING, PAYMENT_ID, SagaDriver, commands, one


def assert_cancelled(saga: SagaDriver, reason: str = "USER_CANCELLED") -> None:
    state = saga.state
    assert (state.phase, state.status, state.reason) == (
        "CANCELLED",
        BookingStatus.CANCELLED,
        reason,
    )
    assert state.compensations == ()


def test_cancel_after_completion_refunds_then_releases() -> None:
    saga = SagaDriver()
    saga.to_completed()
    outputs = saga.cancel()

    refund = one(outputs, RefundPayment)
    assert (refund.payment_id, refund.idempotency_key) == (PAYMENT_ID, f"tessera:{BOOKING}:REFUND")
    assert commands(saga.refunded()) == ["ReleaseReservation"]
    outputs = saga.released()
    cancelled = one(outputs, BookingCancelled)
    assert (cancelled.version, cancelled.reason) == (4, "USER_CANCELLED")
    assert_cancelled(saga)
    compensation_steps = [
        (e.step, e.status) for e in saga.all(SagaStepChanged) if e.action == "COMPENSATION"
    ]
    assert compensation_steps == [
        ("REFUND_PAYMENT", "STARTED"),
        ("REFUND_PAYMENT", "SUCCEEDED"),
        ("RELEASE_INVENTORY", "STARTED"),
        ("RELEASE_INVENTORY", "SUCCEEDED"),
        ("CANCEL_BOOKING", "SUCCEEDED"),
        ("NOTIFY", "SUCCEEDED"),
    ]


def test_a_support_refund_ends_cancelled_with_reason_refunded() -> None:
    saga = SagaDriver()
    saga.to_completed()
    assert commands(saga.refund()) == ["RefundPayment"]
    saga.refunded()
    refunded = one(saga.released(), BookingRefunded)
    assert (refunded.status, refunded.reason) == (BookingStatus.CANCELLED, "REFUNDED")
    assert_cancelled(saga, "REFUNDED")


def test_a_refund_before_completion_is_a_no_op() -> None:
    saga = SagaDriver()
    saga.to_confirmed()
    assert saga.refund() == []
    assert saga.state.phase == "CAPTURING"


def test_cancel_while_reserving_waits_for_the_reply_then_releases() -> None:
    saga = SagaDriver()
    saga.create()
    outputs = saga.cancel()
    assert commands(outputs) == []
    assert saga.state.cancel_requested
    assert saga.cancel() == []  # asked twice, recorded once

    # The hold arrives after the cancel: it is released, never stranded.
    assert commands(saga.reserved()) == ["ReleaseReservation"]
    saga.released()
    assert_cancelled(saga)


def test_cancel_while_authorizing_voids_the_authorization_and_releases() -> None:
    saga = SagaDriver()
    saga.create()
    saga.reserved()
    saga.cancel()
    assert commands(saga.authorized()) == ["VoidPayment"]
    assert saga.last(VoidPayment).payment_id == PAYMENT_ID
    assert commands(saga.voided()) == ["ReleaseReservation"]
    saga.released()
    assert_cancelled(saga)


def test_cancel_after_the_early_confirmation_voids_and_releases() -> None:
    saga = SagaDriver(SagaPolicy())
    saga.create()
    saga.reserved()
    saga.authorized()
    assert len(saga.all(BookingConfirmed)) == 1  # announced at authorization
    saga.cancel()
    assert commands(saga.confirmed()) == ["VoidPayment"]
    saga.voided()
    saga.released()
    assert_cancelled(saga)


def test_cancel_while_confirming_a_hold_near_expiry_never_confirms_the_booking() -> None:
    # The hold expires within the margin: CONFIRMED waits for the ledger's confirmation.
    saga = SagaDriver(SagaPolicy(hold_ttl_ms=60_000, early_confirm_margin_ms=120_000))
    saga.create()
    saga.reserved()
    saga.authorized()
    saga.cancel()
    assert commands(saga.confirmed()) == ["VoidPayment"]
    saga.voided()
    saga.released()
    assert saga.all(BookingConfirmed) == []
    assert_cancelled(saga)


def test_cancel_while_capturing_refunds_once_the_capture_lands() -> None:
    saga = SagaDriver()
    saga.to_confirmed()
    saga.cancel()
    assert commands(saga.captured()) == ["RefundPayment"]
    saga.refunded()
    saga.released()
    assert_cancelled(saga)
    assert one(saga.sent, BookingCancelled).version == 3


def test_a_cancel_asked_before_a_failure_ends_cancelled() -> None:
    saga = SagaDriver()
    saga.create()
    saga.cancel()
    saga.reserve_rejected("SOLD_OUT")
    assert_cancelled(saga)
    assert saga.all(ReleaseReservation) == []


def test_cancel_while_already_compensating_is_a_no_op() -> None:
    saga = SagaDriver()
    saga.create()
    saga.reserved()
    saga.declined()
    assert saga.cancel() == []
    saga.released()
    assert saga.state.reason == "PAYMENT_DECLINED"


def test_a_completed_booking_cancelled_twice_refunds_once() -> None:
    saga = SagaDriver()
    saga.to_completed()
    saga.cancel()
    assert saga.cancel() == []
    assert saga.refund() == []
    saga.refunded()
    saga.released()
    assert len(saga.all(RefundPayment)) == 1
