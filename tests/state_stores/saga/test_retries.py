from __future__ import annotations

import msgspec
import pytest

from schemas.base import Money, caused_by
from schemas.booking_events import BookingCompleted
from schemas.payment_commands import CapturePayment, RefundPayment, VoidPayment
from schemas.payment_events import PaymentRefunded
from schemas.saga_events import SagaStepChanged
from schemas.timers import ScheduleTimer, StepTimedOut
from state_stores.saga import SagaPolicy

from .driver import BOOKING, PAYMENT_ID, SagaDriver, commands, one, types


def fail_capture(saga: SagaDriver, detail: str = "http 503") -> list[object]:
    return list(saga.payment_failed(saga.last(CapturePayment), "CAPTURE", detail))


def test_a_failed_capture_is_retried_with_the_same_idempotency_key() -> None:
    saga = SagaDriver()
    saga.to_confirmed()
    first = saga.last(CapturePayment)
    outputs = saga.payment_failed(first, "CAPTURE", "http 503")

    assert commands(outputs) == []
    timer = one(outputs, ScheduleTimer)
    timeout = msgspec.json.decode(timer.payload, type=StepTimedOut)
    assert timeout.deadline_version == saga.state.deadline_version
    assert timer.timer_id == f"{BOOKING}:{saga.state.deadline_version}"
    assert 500 <= timer.due_at - saga.now <= 1_000
    assert one(outputs, SagaStepChanged).status == "RETRYING"

    retry = one(saga.fire(timer), CapturePayment)
    assert retry.idempotency_key == first.idempotency_key
    assert retry.message_id != first.message_id
    assert one(saga.captured(), BookingCompleted).version == 3


def test_capture_gives_up_after_max_attempts_then_voids_and_releases() -> None:
    saga = SagaDriver(SagaPolicy(max_capture_attempts=3))
    saga.to_confirmed()
    fail_capture(saga)
    saga.fire_last_timer()
    fail_capture(saga)
    saga.fire_last_timer()
    outputs = saga.payment_failed(saga.last(CapturePayment), "CAPTURE", "http 503")

    assert len(saga.all(CapturePayment)) == 3
    assert commands(outputs) == ["VoidPayment"]
    assert saga.last(VoidPayment).payment_id == PAYMENT_ID
    saga.voided()
    saga.released()
    assert (saga.state.phase, saga.state.reason) == ("FAILED", "PAYMENT_FAILED")
    assert saga.all(RefundPayment) == []


def test_a_failed_void_is_retried_until_it_succeeds() -> None:
    saga = SagaDriver()
    saga.create()
    saga.reserved()
    saga.authorized()
    saga.hold_expired()
    first = saga.last(VoidPayment)
    for _ in range(4):
        saga.payment_failed(saga.last(VoidPayment), "VOID", "timeout")
        saga.fire_last_timer()
    voids = saga.all(VoidPayment)
    assert len(voids) == 5
    assert {void.idempotency_key for void in voids} == {first.idempotency_key}
    saga.voided()
    assert saga.state.phase == "FAILED"


def test_a_failed_refund_is_retried_until_it_succeeds() -> None:
    saga = SagaDriver()
    saga.to_completed()
    saga.cancel()
    saga.payment_failed(saga.last(RefundPayment), "REFUND", "http 500")
    assert commands(saga.fire_last_timer()) == ["RefundPayment"]
    saga.refunded()
    saga.released()
    assert saga.state.phase == "CANCELLED"
    assert len({r.idempotency_key for r in saga.all(RefundPayment)}) == 1


def test_a_void_answered_with_a_refund_counts_as_done() -> None:
    """The worker refunds a payment it finds captured though every capture reply failed."""
    saga = SagaDriver(SagaPolicy(max_capture_attempts=1))
    saga.to_confirmed()
    fail_capture(saga)
    void = saga.last(VoidPayment)
    refund = PaymentRefunded(
        **caused_by(void), booking_id=BOOKING, payment_id=PAYMENT_ID, amount=Money(5_000)
    )
    outputs = saga.send(refund)
    assert commands(outputs) == ["ReleaseReservation"]


def test_a_duplicate_failure_while_a_retry_waits_is_ignored() -> None:
    saga = SagaDriver()
    saga.to_confirmed()
    fail_capture(saga)
    assert fail_capture(saga) == []
    assert saga.state.attempts["CAPTURE_PAYMENT"] == 1


def test_a_late_failure_of_an_earlier_attempt_is_ignored() -> None:
    saga = SagaDriver()
    saga.to_confirmed()
    first = saga.last(CapturePayment)
    saga.payment_failed(first, "CAPTURE")
    saga.fire_last_timer()
    assert saga.payment_failed(first, "CAPTURE") == []  # answers attempt 1, attempt 2 runs
    assert saga.state.retry_pending is False


def test_a_retry_timer_after_success_is_stale() -> None:
    saga = SagaDriver()
    saga.to_confirmed()
    fail_capture(saga)
    timer = saga.last(ScheduleTimer)
    saga.captured()  # a success that raced the failure report
    assert saga.fire(timer) == []
    assert saga.state.phase == "COMPLETED"


@pytest.mark.parametrize("attempt", [1, 2, 3, 5, 8, 20])
def test_backoff_grows_exponentially_and_is_capped(attempt: int) -> None:
    policy = SagaPolicy(retry_backoff_base_ms=1_000, retry_backoff_max_ms=60_000)
    capped = min(1_000 * 2 ** (attempt - 1), 60_000)
    delay = policy.retry_delay_ms(BOOKING, attempt)
    assert capped // 2 <= delay <= capped
    assert delay == policy.retry_delay_ms(BOOKING, attempt)


def test_retrying_steps_are_visible_in_the_audit_trail() -> None:
    saga = SagaDriver()
    saga.to_confirmed()
    fail_capture(saga)
    saga.fire_last_timer()
    capture_steps = [
        (e.status, e.attempt) for e in saga.all(SagaStepChanged) if e.step == "CAPTURE_PAYMENT"
    ]
    assert capture_steps == [("STARTED", 1), ("RETRYING", 1), ("STARTED", 2)]
    assert "CapturePayment" in types(saga.sent)
