from __future__ import annotations

from schemas.base import BookingStatus
from schemas.booking_events import BookingFailed
from schemas.inventory_commands import ReleaseReservation
from schemas.notifications import PushRequested
from schemas.payment_commands import AuthorizePayment, VoidPayment
from schemas.timers import ScheduleTimer

from .driver import BOOKING, PAYMENT_ID, SagaDriver, commands, one, types


def assert_failed(saga: SagaDriver, reason: str) -> None:
    state = saga.state
    assert (state.phase, state.status, state.reason) == ("FAILED", BookingStatus.FAILED, reason)
    failed = saga.last(BookingFailed)
    assert (failed.status, failed.reason, failed.version) == (BookingStatus.FAILED, reason, 2)
    assert saga.last(PushRequested).notification_id == f"{BOOKING}:2:push"
    assert state.compensations == () and state.compensating is None


def test_sold_out_fails_without_releasing_anything() -> None:
    saga = SagaDriver()
    saga.create()
    outputs = saga.reserve_rejected("SOLD_OUT")

    assert commands(outputs) == []
    assert_failed(saga, "SOLD_OUT")
    assert ("RELEASE_INVENTORY", "COMPENSATION", "SKIPPED") in saga.steps()
    assert "EmailRequested" in types(outputs)


def test_an_unknown_item_fails_with_that_reason() -> None:
    saga = SagaDriver()
    saga.create()
    saga.reserve_rejected("UNKNOWN_ITEM")
    assert_failed(saga, "UNKNOWN_ITEM")


def test_a_decline_releases_the_hold_without_voiding() -> None:
    saga = SagaDriver()
    saga.create()
    saga.reserved()
    outputs = saga.declined()

    assert commands(outputs) == ["ReleaseReservation"]
    assert one(outputs, ReleaseReservation).reason == "PAYMENT_DECLINED"
    assert saga.state.phase == "COMPENSATING"
    assert ("VOID_PAYMENT", "COMPENSATION", "SKIPPED") in saga.steps()

    saga.released()
    assert_failed(saga, "PAYMENT_DECLINED")
    assert saga.all(VoidPayment) == []


def test_an_authorize_failure_voids_by_authorize_key_then_releases() -> None:
    saga = SagaDriver()
    saga.create()
    saga.reserved()
    outputs = saga.payment_failed(saga.last(AuthorizePayment), "AUTHORIZE", "http 503")

    assert commands(outputs) == ["VoidPayment"]
    void = one(outputs, VoidPayment)
    assert void.payment_id == ""
    assert void.authorize_idempotency_key == f"tessera:{BOOKING}:AUTHORIZE"
    assert void.idempotency_key == f"tessera:{BOOKING}:VOID"
    assert (void.amount, void.payment_method) == (
        saga.last(AuthorizePayment).amount,
        "pm_card_visa",
    )

    assert commands(saga.voided()) == ["ReleaseReservation"]
    saga.released()
    assert_failed(saga, "PAYMENT_FAILED")


def test_an_authorize_timeout_fails_with_timeout() -> None:
    saga = SagaDriver()
    saga.create()
    saga.reserved()
    saga.payment_failed(saga.last(AuthorizePayment), "AUTHORIZE", "no answer", kind="timeout")
    saga.voided()
    saga.released()
    assert_failed(saga, "TIMEOUT")


def test_the_action_deadline_while_reserving_releases_and_ignores_the_late_reply() -> None:
    saga = SagaDriver()
    saga.create()
    outputs = saga.fire_last_timer()
    assert commands(outputs) == ["ReleaseReservation"]
    assert ("RESERVE_INVENTORY", "ACTION", "FAILED") in saga.steps()

    assert saga.reserved() == []  # late: the release already follows it to the ledger
    saga.released()
    assert_failed(saga, "TIMEOUT")


def test_the_action_deadline_while_authorizing_voids_by_key_and_releases() -> None:
    saga = SagaDriver()
    saga.create()
    deadline = saga.last(ScheduleTimer)
    saga.reserved()
    outputs = saga.fire(deadline)

    assert commands(outputs) == ["VoidPayment"]
    assert one(outputs, VoidPayment).authorize_idempotency_key == f"tessera:{BOOKING}:AUTHORIZE"
    assert saga.authorized() == []
    assert commands(saga.voided()) == ["ReleaseReservation"]
    saga.released()
    assert_failed(saga, "TIMEOUT")


def test_the_action_deadline_while_confirming_voids_the_known_payment() -> None:
    saga = SagaDriver()
    saga.create()
    deadline = saga.last(ScheduleTimer)
    saga.reserved()
    saga.authorized()
    outputs = saga.fire(deadline)

    assert one(outputs, VoidPayment).payment_id == PAYMENT_ID
    assert saga.confirmed() == []
    saga.voided()
    saga.released()
    assert_failed(saga, "TIMEOUT")


def test_the_deadline_is_stale_once_confirmed() -> None:
    saga = SagaDriver()
    saga.create()
    deadline = saga.last(ScheduleTimer)
    saga.reserved()
    saga.authorized()
    saga.confirmed()
    assert saga.fire(deadline) == []
    assert saga.state.phase == "CAPTURING"


def test_a_hold_expiring_before_confirmation_voids_and_skips_the_release() -> None:
    saga = SagaDriver()
    saga.create()
    saga.reserved()
    saga.authorized()
    outputs = saga.hold_expired()

    assert commands(outputs) == ["VoidPayment"]
    assert ("RELEASE_INVENTORY", "COMPENSATION", "SKIPPED") in saga.steps()
    assert saga.confirm_rejected() == []  # the confirm's refusal arrives late: already handled
    assert commands(saga.voided()) == []
    assert_failed(saga, "HOLD_EXPIRED")


def test_a_confirm_refused_by_the_ledger_fails_with_hold_expired() -> None:
    saga = SagaDriver()
    saga.create()
    saga.reserved()
    saga.authorized()
    outputs = saga.confirm_rejected("NOT_HELD")
    assert commands(outputs) == ["VoidPayment"]
    saga.voided()
    assert_failed(saga, "HOLD_EXPIRED")
    assert saga.all(ReleaseReservation) == []


def test_a_hold_expiring_while_authorizing_voids_by_authorize_key() -> None:
    saga = SagaDriver()
    saga.create()
    saga.reserved()
    void = one(saga.hold_expired(), VoidPayment)
    assert (void.payment_id, void.authorize_idempotency_key) == (
        "",
        f"tessera:{BOOKING}:AUTHORIZE",
    )
    saga.voided()
    assert_failed(saga, "HOLD_EXPIRED")


def test_a_hold_expiry_after_confirmation_is_ignored() -> None:
    saga = SagaDriver()
    saga.to_confirmed()
    assert saga.hold_expired() == []
