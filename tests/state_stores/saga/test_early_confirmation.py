"""CONFIRMED at authorization (the default policy): two commits sooner for the client."""

from __future__ import annotations

from schemas.base import BookingStatus
from schemas.booking_events import BookingCompleted, BookingConfirmed, BookingFailed
from schemas.payment_commands import CapturePayment
from state_stores.saga import SagaPolicy

from .driver import SagaDriver, commands, one


def test_authorization_announces_confirmed_and_confirms_the_hold() -> None:
    saga = SagaDriver(SagaPolicy())
    saga.create()
    saga.reserved()
    outputs = saga.authorized()
    assert commands(outputs) == ["ConfirmReservation"]
    confirmed = one(outputs, BookingConfirmed)
    assert (confirmed.status, confirmed.version) == (BookingStatus.CONFIRMED, 2)
    # The ledger's confirmation then only moves the saga on to capture: no second event.
    outputs = saga.confirmed()
    assert commands(outputs) == ["CapturePayment"]
    assert not [o for o in outputs if isinstance(o, BookingConfirmed)]
    one(outputs, CapturePayment)
    completed = one(saga.captured(), BookingCompleted)
    assert completed.version == 3


def test_a_ledger_refusal_after_early_confirmation_fails_and_voids() -> None:
    saga = SagaDriver(SagaPolicy())
    saga.create()
    saga.reserved()
    saga.authorized()
    assert commands(saga.confirm_rejected("HOLD_EXPIRED")) == ["VoidPayment"]
    outputs = saga.voided()
    failed = one(outputs, BookingFailed)
    assert (failed.status, failed.reason) == (BookingStatus.FAILED, "HOLD_EXPIRED")


def test_a_hold_close_to_expiry_waits_for_the_ledger() -> None:
    saga = SagaDriver(SagaPolicy(hold_ttl_ms=60_000, early_confirm_margin_ms=120_000))
    saga.create()
    saga.reserved()
    assert not [o for o in saga.authorized() if isinstance(o, BookingConfirmed)]
    assert one(saga.confirmed(), BookingConfirmed).version == 2
