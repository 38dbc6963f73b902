"""Inventory reads and admin updates; payment status and refunds."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import msgspec
import pytest

from schemas.booking_commands import DECODER as BOOKING_DECODER
from schemas.booking_commands import RefundBooking
from schemas.inventory_commands import DECODER as INVENTORY_DECODER
from schemas.inventory_commands import SetCapacity
from sinks.cache_contract import availability_key

from .conftest import Rows, read_topic, uid

pytestmark = pytest.mark.anyio


async def test_inventory_hot_cache_then_postgres_and_admin_update(
    ingress: Any, rows: Rows, redis_client: Any, group_id: str
) -> None:
    h = await ingress()
    hot, cold = uid("item"), uid("item")
    redis_client.set(
        availability_key(h.settings.topic_prefix, hot),
        msgspec.json.encode(
            {
                "item_id": hot,
                "capacity": 10,
                "held": 2,
                "sold": 3,
                "available": 5,
                "price_minor": 1999,
                "currency": "EUR",
                "version": 7,
            }
        ),
    )
    rows.add(
        "inventory",
        "inventory",
        "item_id",
        {
            "item_id": cold,
            "capacity": 4,
            "held": 0,
            "sold": 4,
            "price_minor": 100,
            "currency": "USD",
            "version": 2,
            "updated_at": datetime.now(UTC),
        },
    )
    user = h.auth(uid("u"))
    got = (await h.client.get(f"/api/v1/inventory/{hot}", headers=user)).json()
    assert got == {
        "itemId": hot,
        "capacity": 10,
        "held": 2,
        "sold": 3,
        "available": 5,
        "price": {"amount_minor": 1999, "currency": "EUR"},
        "version": 7,
    }
    got = (await h.client.get(f"/api/v1/inventory/{cold}", headers=user)).json()
    assert got["available"] == 0 and got["price"] == {"amount_minor": 100, "currency": "USD"}
    missing = await h.client.get(f"/api/v1/inventory/{uid('item')}", headers=user)
    assert missing.status_code == 404 and missing.json()["code"] == "ITEM_NOT_FOUND"

    admin = h.auth(uid("admin"), "ADMIN", key=uid("k"))
    body = {"capacity": 50, "price": {"amount_minor": 2500, "currency": "EUR"}}
    response = await h.client.put(f"/api/v1/inventory/{hot}", json=body, headers=admin)
    assert response.status_code == 202, response.text
    bad = await h.client.put(f"/api/v1/inventory/{hot}", json={"capacity": -1}, headers=admin)
    assert bad.status_code == 422
    (record,) = read_topic(h.settings, "inventory-commands", group_id)
    command = INVENTORY_DECODER.decode(record.value())
    assert isinstance(command, SetCapacity) and record.key().decode() == hot
    assert (command.capacity, command.price.amount_minor, command.price.currency) == (
        50,
        2500,
        "EUR",
    )
    assert command.message_id == response.json()["commandId"]


async def test_payment_status_and_refund(ingress: Any, rows: Rows, group_id: str) -> None:
    h = await ingress()
    user = uid("u")
    created = await h.book(user)
    booking_id = created.json()["bookingId"]
    none_yet = await h.client.get(f"/api/v1/payments/{booking_id}/status", headers=h.auth(user))
    assert none_yet.status_code == 404 and none_yet.json()["code"] == "PAYMENT_NOT_FOUND"
    rows.add(
        "payment",
        "payments",
        "booking_id",
        {
            "booking_id": booking_id,
            "payment_id": uid("pay"),
            "amount_minor": 4200,
            "currency": "USD",
            "status": "CAPTURED",
            "captured_count": 1,
            "version": 3,
            "updated_at": datetime.now(UTC),
        },
    )
    status = await h.client.get(f"/api/v1/payments/{booking_id}/status", headers=h.auth(user))
    assert status.status_code == 200
    assert status.json()["status"] == "CAPTURED" and status.json()["captured"] is True

    support = h.auth(uid("support"), "SUPPORT")
    refund = await h.client.post(f"/api/v1/payments/{booking_id}/refund", headers=support)
    assert refund.status_code == 202, refund.text
    unknown = await h.client.post(f"/api/v1/payments/{uid('b')}/refund", headers=support)
    assert unknown.status_code == 404
    commands = [
        BOOKING_DECODER.decode(r.value())
        for r in read_topic(h.settings, "booking-commands", group_id)
    ]
    refunds = [c for c in commands if isinstance(c, RefundBooking)]
    assert [(c.booking_id, c.reason) for c in refunds] == [(booking_id, "SUPPORT_REFUND")]


async def test_location_headers_are_percent_encoded(ingress: Any) -> None:
    h = await ingress()
    item = "zürich/ä 1"
    admin = h.auth(uid("admin"), "ADMIN", key=uid("k"))
    response = await h.client.put(
        "/api/v1/inventory/z%C3%BCrich%2F%C3%A4%201", json={"capacity": 1}, headers=admin
    )
    assert response.status_code == 202, response.text
    assert response.json()["itemId"] == item
    assert response.headers["location"] == "/api/v1/inventory/z%C3%BCrich%2F%C3%A4%201"
