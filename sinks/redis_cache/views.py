"""The JSON values of the read model, exactly as cache_contract.py documents them
(and as the ingress decodes them: ingress/readmodel.py CachedBooking / CachedItem)."""

from __future__ import annotations

from typing import Any

import msgspec

from schemas.booking_events import BookingChange
from schemas.inventory_events import ItemSnapshot

_encode = msgspec.json.Encoder().encode


def booking_view(event: BookingChange) -> dict[str, Any]:
    amount = event.amount
    return {
        "booking_id": event.booking_id,
        "user_id": event.user_id,
        "item_id": event.item_id,
        "quantity": event.quantity,
        "status": event.status.value,
        "reason": event.reason or None,
        "amount_minor": None if amount is None else amount.amount_minor,
        "currency": None if amount is None else amount.currency,
        "payment_id": event.payment_id or None,
        "version": event.version,
        "created_at": event.created_at,
        "updated_at": event.occurred_at,
    }


def availability_view(snapshot: ItemSnapshot) -> dict[str, Any]:
    return {
        "item_id": snapshot.item_id,
        "capacity": snapshot.capacity,
        "held": snapshot.held,
        "sold": snapshot.sold,
        "available": snapshot.capacity - snapshot.held - snapshot.sold,
        "price_minor": snapshot.price.amount_minor,
        "currency": snapshot.price.currency,
        "version": snapshot.version,
    }


def encode(view: dict[str, Any]) -> bytes:
    return _encode(view)
