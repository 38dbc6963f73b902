"""Idempotency keys: replay, conflict, and one Kafka record under 50 concurrent duplicates."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from schemas.booking_commands import DECODER

from .conftest import read_topic, uid

pytestmark = pytest.mark.anyio


async def test_same_key_same_body_replays_different_body_is_422(ingress: Any) -> None:
    h = await ingress()
    user, key = uid("u"), uid("key")
    first = await h.book(user, key=key, quantity=2)
    again = await h.book(user, key=key, quantity=2)
    assert first.status_code == again.status_code == 202
    assert first.content == again.content
    assert again.headers["location"] == first.headers["location"]
    assert again.headers["idempotent-replayed"] == "true"
    # the same JSON written differently is the same request
    body = b'{ "paymentMethod": "pm_card_visa", "quantity": 2, "itemId": "item-1" }'
    headers = {**h.auth(user, key=key), "Content-Type": "application/json"}
    spaced = await h.client.post("/api/v1/bookings", content=body, headers=headers)
    assert spaced.status_code == 202 and spaced.content == first.content

    different = await h.book(user, key=key, quantity=3)
    assert different.status_code == 422
    assert different.json()["code"] == "IDEMPOTENCY_KEY_REUSED"
    # keys are scoped per caller: another user's identical key is a new booking
    other = await h.book(uid("u"), key=key, quantity=2)
    assert other.status_code == 202 and other.json()["bookingId"] != first.json()["bookingId"]
    missing = await h.client.post(
        "/api/v1/bookings",
        json={"itemId": "i", "quantity": 1, "paymentMethod": "card"},
        headers=h.auth(user),
    )
    assert missing.status_code == 400 and missing.json()["code"] == "IDEMPOTENCY_KEY_REQUIRED"


async def test_stored_error_replays_too(ingress: Any) -> None:
    h = await ingress()
    user, key = uid("u"), uid("key")
    path = f"/api/v1/bookings/{uid('missing')}/cancel"
    first = await h.client.put(path, headers=h.auth(user, key=key))
    second = await h.client.put(path, headers=h.auth(user, key=key))
    assert first.status_code == second.status_code == 404
    assert first.content == second.content and second.headers["idempotent-replayed"] == "true"


async def test_fifty_concurrent_requests_one_key_one_command(ingress: Any, group_id: str) -> None:
    h = await ingress()
    user, key = uid("u"), uid("key")
    responses = await asyncio.gather(*(h.book(user, key=key) for _ in range(50)))
    assert {r.status_code for r in responses} == {202}
    assert len({r.content for r in responses}) == 1
    records = read_topic(h.settings, "booking-commands", group_id)
    assert len(records) == 1
    assert DECODER.decode(records[0].value()).booking_id == responses[0].json()["bookingId"]


async def test_the_command_carries_the_request_trace(ingress: Any, group_id: str) -> None:
    h = await ingress()
    client_trace = "4bf92f3577b34da6a3ce929d0e0e4736"
    headers = h.auth(uid("u"), "USER", key=uid("key"))
    headers["traceparent"] = f"00-{client_trace}-00f067aa0ba902b7-01"
    body = {"itemId": "item-1", "quantity": 1, "paymentMethod": "pm_card_visa"}
    response = await h.client.post("/api/v1/bookings", json=body, headers=headers)
    assert response.status_code == 202
    (record,) = read_topic(h.settings, "booking-commands", group_id)
    traceparent = dict(record.headers())["traceparent"].decode()
    # Same trace as the client's request, a new span for the ingress hop.
    assert traceparent.startswith(f"00-{client_trace}-")
    assert traceparent.split("-")[2] != "00f067aa0ba902b7"
