from __future__ import annotations

import msgspec

from schemas.base import BookingStatus, Envelope, Money, caused_by
from schemas.booking_events import BookingCompleted, BookingConfirmed, BookingCreated
from schemas.inventory_commands import ReserveInventory
from schemas.inventory_events import InventoryReserved
from schemas.notifications import EmailRequested, PushRequested, SmsRequested, WebhookRequested
from schemas.payment_commands import AuthorizePayment, CapturePayment
from schemas.saga_events import SagaStepChanged
from schemas.timers import ScheduleTimer, StepTimedOut
from state_stores.base import InMemoryStore
from state_stores.saga import SagaPolicy, decide
from state_stores.saga.state import load_saga

from .driver import BOOKING, ITEM, NOW, PAYMENT_ID, SagaDriver, commands, one, types


def test_create_reserves_announces_and_sets_the_action_deadline() -> None:
    saga = SagaDriver()
    outputs = saga.create()

    assert types(outputs) == [
        "BookingCreated",
        "ReserveInventory",
        "SagaStepChanged",
        "ScheduleTimer",
    ]
    created = one(outputs, BookingCreated)
    assert (created.status, created.version, created.created_at) == (BookingStatus.PENDING, 1, NOW)
    reserve = one(outputs, ReserveInventory)
    assert (reserve.item_id, reserve.booking_id, reserve.quantity) == (ITEM, BOOKING, 2)
    assert reserve.hold_expires_at == NOW + 600_000

    timer = one(outputs, ScheduleTimer)
    assert timer.timer_id == f"{BOOKING}:1"
    assert (timer.due_at, timer.target_topic, timer.target_key) == (
        NOW + 30_000,
        "saga-timeouts",
        BOOKING,
    )
    timeout = msgspec.json.decode(timer.payload, type=StepTimedOut)
    assert (timeout.booking_id, timeout.deadline_version) == (BOOKING, 1)

    state = saga.state
    assert (state.phase, state.compensations) == ("RESERVING", ("RELEASE_INVENTORY",))


def test_the_happy_path_reaches_completed() -> None:
    saga = SagaDriver()
    saga.create()

    authorize = one(saga.reserved(), AuthorizePayment)
    assert authorize.amount == Money(5_000, "USD")
    assert authorize.idempotency_key == f"tessera:{BOOKING}:AUTHORIZE"
    assert authorize.payment_method == "pm_card_visa"
    assert saga.state.compensations == ("RELEASE_INVENTORY", "VOID_PAYMENT")

    assert commands(saga.authorized()) == ["ConfirmReservation"]
    assert (saga.state.phase, saga.state.payment_id) == ("CONFIRMING", PAYMENT_ID)

    outputs = saga.confirmed()
    confirmed = one(outputs, BookingConfirmed)
    assert (confirmed.status, confirmed.version, confirmed.payment_id) == (
        BookingStatus.CONFIRMED,
        2,
        PAYMENT_ID,
    )
    capture = one(outputs, CapturePayment)
    assert (capture.payment_id, capture.amount, capture.idempotency_key) == (
        PAYMENT_ID,
        Money(5_000),
        f"tessera:{BOOKING}:CAPTURE",
    )
    assert saga.state.compensations == ("RELEASE_INVENTORY", "REFUND_PAYMENT")
    assert types(outputs).index("BookingConfirmed") < types(outputs).index("CapturePayment")

    outputs = saga.captured()
    completed = one(outputs, BookingCompleted)
    assert (completed.status, completed.version, completed.amount) == (
        BookingStatus.COMPLETED,
        3,
        Money(5_000),
    )
    assert commands(outputs) == []
    assert saga.state.phase == "COMPLETED"
    # Kept, so a later cancel can unwind the booking.
    assert saga.state.compensations == ("RELEASE_INVENTORY", "REFUND_PAYMENT")

    assert saga.steps() == [
        ("RESERVE_INVENTORY", "ACTION", "STARTED"),
        ("RESERVE_INVENTORY", "ACTION", "SUCCEEDED"),
        ("AUTHORIZE_PAYMENT", "ACTION", "STARTED"),
        ("AUTHORIZE_PAYMENT", "ACTION", "SUCCEEDED"),
        ("CONFIRM_BOOKING", "ACTION", "STARTED"),
        ("CONFIRM_BOOKING", "ACTION", "SUCCEEDED"),
        ("NOTIFY", "ACTION", "SUCCEEDED"),
        ("CAPTURE_PAYMENT", "ACTION", "STARTED"),
        ("CAPTURE_PAYMENT", "ACTION", "SUCCEEDED"),
        ("NOTIFY", "ACTION", "SUCCEEDED"),
    ]
    assert [e.version for e in saga.all(SagaStepChanged)] == list(range(1, 11))


def test_notifications_go_to_every_channel_the_booking_has_plus_push() -> None:
    saga = SagaDriver()
    saga.create(contact_phone="+15550100", webhook_url="https://partner.example/hook")
    saga.reserved()
    saga.authorized()
    outputs = saga.confirmed()

    email, sms = one(outputs, EmailRequested), one(outputs, SmsRequested)
    webhook, push = one(outputs, WebhookRequested), one(outputs, PushRequested)
    assert email.notification_id == f"{BOOKING}:2:email"
    assert (email.to, email.template) == ("ada@example.com", "booking_confirmed")
    assert email.data["status"] == "CONFIRMED"
    assert (sms.notification_id, sms.to) == (f"{BOOKING}:2:sms", "+15550100")
    assert (webhook.notification_id, webhook.event_type) == (
        f"{BOOKING}:2:webhook",
        "booking.confirmed",
    )
    assert (push.notification_id, push.user_id, push.status) == (
        f"{BOOKING}:2:push",
        "user-1",
        "CONFIRMED",
    )


def test_without_contacts_only_the_push_is_sent() -> None:
    saga = SagaDriver()
    saga.create(contact_email="")
    saga.reserved()
    saga.authorized()
    outputs = saga.confirmed()
    assert [m for m in types(outputs) if m.endswith("Requested")] == ["PushRequested"]


def booking_id_of(message: Envelope) -> str | None:
    return getattr(message, "booking_id", None)


def test_every_output_carries_the_booking_and_its_cause() -> None:
    saga = SagaDriver()
    saga.create()
    for answer in (saga.reserved, saga.authorized, saga.confirmed, saga.captured):
        before = len(saga.sent)
        answer()
        cause_id = saga.sent[before].causation_id
        for output in saga.sent[before:]:
            assert output.causation_id == cause_id
            if not isinstance(output, ScheduleTimer):
                assert booking_id_of(output) == BOOKING
    assert len({m.message_id for m in saga.sent}) == len(saga.sent)
    create = saga.all(BookingCreated)[0]
    assert all(m.correlation_id == create.correlation_id for m in saga.sent)


def test_decide_is_pure_and_deterministic() -> None:
    saga = SagaDriver()
    saga.create()
    state = saga.state
    reserve = saga.last(ReserveInventory)
    reply = InventoryReserved(
        **caused_by(reserve),
        item_id=ITEM,
        booking_id=BOOKING,
        quantity=2,
        amount=Money(5_000),
        hold_expires_at=reserve.hold_expires_at,
    )
    policy = SagaPolicy()
    first = decide(state, reply, NOW + 5, policy)
    second = decide(state, reply, NOW + 5, policy)
    assert first == second
    assert saga.state == state  # the input state is untouched


def test_a_stored_saga_round_trips_through_the_store() -> None:
    saga = SagaDriver()
    saga.to_confirmed()
    store = InMemoryStore()
    store.set("saga", saga.store.get("saga") or b"")
    assert load_saga(store) == saga.state
