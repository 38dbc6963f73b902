"""Notification requests for a booking change: email, SMS and webhook when the booking has
them, and always a live push. Ids derive from booking and version, so a redelivered request
is the same notification and is delivered once."""

from __future__ import annotations

from schemas.notifications import (
    EmailRequested,
    NotificationRequest,
    PushRequested,
    SmsRequested,
    WebhookRequested,
)

from .state import SagaState
from .turn import SagaTurn


def notify(state: SagaState, turn: SagaTurn, event_name: str) -> list[str]:
    """Emit the requests for the booking's current version; returns the channels used."""
    booking_id = state.booking_id
    prefix = f"{booking_id}:{state.version}"
    template = f"booking_{event_name}"
    data = summary(state)
    requests: list[NotificationRequest] = []
    if state.contact_email:
        requests.append(
            EmailRequested(
                **turn.envelope(),
                notification_id=f"{prefix}:email",
                booking_id=booking_id,
                to=state.contact_email,
                template=template,
                data=data,
            )
        )
    if state.contact_phone:
        requests.append(
            SmsRequested(
                **turn.envelope(),
                notification_id=f"{prefix}:sms",
                booking_id=booking_id,
                to=state.contact_phone,
                template=template,
                data=data,
            )
        )
    if state.webhook_url:
        requests.append(
            WebhookRequested(
                **turn.envelope(),
                notification_id=f"{prefix}:webhook",
                booking_id=booking_id,
                url=state.webhook_url,
                event_type=f"booking.{event_name}",
                body=data,
            )
        )
    requests.append(
        PushRequested(
            **turn.envelope(),
            notification_id=f"{prefix}:push",
            booking_id=booking_id,
            user_id=state.user_id,
            status=state.status.value,
            reason=state.reason,
        )
    )
    for request in requests:
        turn.emit(request)
    return [request.notification_id.rsplit(":", 1)[1] for request in requests]


def summary(state: SagaState) -> dict[str, str]:
    amount = state.amount
    return {
        "booking_id": state.booking_id,
        "item_id": state.item_id,
        "quantity": str(state.quantity),
        "status": state.status.value,
        "reason": state.reason,
        "amount_minor": "" if amount is None else str(amount.amount_minor),
        "currency": "" if amount is None else amount.currency,
        "payment_id": state.payment_id,
    }
