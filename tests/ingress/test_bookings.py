"""Create, read, list and cancel bookings through the in-process app on the real stack."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import msgspec
import pytest

from schemas.booking_commands import DECODER, CancelBooking, CreateBooking
from schemas.command_ids import booking_id_for, command_id
from sinks.cache_contract import booking_key

from .conftest import Rows, read_topic, uid

pytestmark = pytest.mark.anyio


async def test_accepted_booking_reads_pending_before_any_pipeline(
    ingress: Any, group_id: str
) -> None:
    h = await ingress()
    user, key = uid("u"), uid("key")
    response = await h.book(user, key=key, itemId="item-7", quantity=2)
    assert response.status_code == 202, response.text
    body = response.json()
    expected = booking_id_for(command_id(user, key))
    assert body == {"bookingId": expected, "status": "PENDING"}
    assert response.headers["location"] == f"/api/v1/bookings/{expected}"
    assert int(response.headers["ratelimit-remaining"]) >= 0

    got = await h.client.get(response.headers["location"], headers=h.auth(user, "USER"))
    assert got.status_code == 200, got.text
    view = got.json()
    assert view["status"] == "PENDING" and view["bookingId"] == expected
    assert view["itemId"] == "item-7" and view["quantity"] == 2 and view["userId"] == user
    assert view["amount"] is None and view["version"] == 0

    (record,) = read_topic(h.settings, "booking-commands", group_id)
    command = DECODER.decode(record.value())
    assert isinstance(command, CreateBooking)
    assert record.key().decode() == expected == command.booking_id
    assert command.message_id == command_id(user, key)
    assert command.channel == "HTTP" and command.user_id == user and command.requested_by == user
    assert dict(record.headers())["x-request-id"]


async def test_hot_cache_wins_then_postgres(ingress: Any, rows: Rows, redis_client: Any) -> None:
    h = await ingress()
    user = uid("u")
    cached_id, pg_id = uid("b"), uid("b")
    now_ms = int(datetime.now(UTC).timestamp() * 1000)
    view = {
        "booking_id": cached_id,
        "user_id": user,
        "item_id": "i",
        "quantity": 1,
        "status": "CONFIRMED",
        "reason": None,
        "amount_minor": 1250,
        "currency": "EUR",
        "payment_id": "pay-1",
        "version": 3,
        "created_at": now_ms,
        "updated_at": now_ms,
    }
    redis_client.set(booking_key(h.settings.topic_prefix, cached_id), msgspec.json.encode(view))
    rows.add(
        "booking",
        "bookings",
        "booking_id",
        booking_row(pg_id, user, status="FAILED", reason="SOLD_OUT", amount_minor=None),
    )

    got = (await h.client.get(f"/api/v1/bookings/{cached_id}", headers=h.auth(user))).json()
    assert got["status"] == "CONFIRMED" and got["amount"] == {
        "amount_minor": 1250,
        "currency": "EUR",
    }
    got = (await h.client.get(f"/api/v1/bookings/{pg_id}", headers=h.auth(user))).json()
    assert got["status"] == "FAILED" and got["reason"] == "SOLD_OUT" and got["amount"] is None
    missing = await h.client.get(f"/api/v1/bookings/{uid('b')}", headers=h.auth(user))
    assert missing.status_code == 404 and missing.json()["code"] == "BOOKING_NOT_FOUND"


def booking_row(
    booking_id: str,
    user: str,
    *,
    status: str = "PENDING",
    reason: str | None = None,
    created: datetime | None = None,
    amount_minor: int | None = 900,
) -> dict[str, Any]:
    created = created or datetime.now(UTC)
    return {
        "booking_id": booking_id,
        "user_id": user,
        "item_id": "item-1",
        "quantity": 1,
        "amount_minor": amount_minor,
        "currency": "USD" if amount_minor is not None else None,
        "status": status,
        "reason": reason,
        "payment_id": None,
        "version": 1,
        "created_at": created,
        "updated_at": created,
    }


async def test_list_is_keyset_paginated_and_filtered(ingress: Any, rows: Rows) -> None:
    h = await ingress()
    user, other = uid("u"), uid("u")
    base = datetime.now(UTC)
    ids = []
    for i in range(5):
        booking_id = f"b{i}-{uid('x')}"
        ids.append(booking_id)
        status = "CONFIRMED" if i % 2 else "PENDING"
        rows.add(
            "booking",
            "bookings",
            "booking_id",
            booking_row(booking_id, user, status=status, created=base - timedelta(seconds=i)),
        )
    rows.add("booking", "bookings", "booking_id", booking_row(uid("b"), other))

    seen: list[str] = []
    cursor = None
    while True:
        params = {"limit": 2, **({"cursor": cursor} if cursor else {})}
        page = await h.client.get("/api/v1/bookings", params=params, headers=h.auth(user))
        assert page.status_code == 200, page.text
        seen += [b["bookingId"] for b in page.json()["items"]]
        cursor = page.json()["nextCursor"]
        if cursor is None:
            break
    assert seen == ids  # newest first, every booking once, only this user's

    confirmed = await h.client.get(
        "/api/v1/bookings", params={"status": "CONFIRMED"}, headers=h.auth(user)
    )
    assert [b["bookingId"] for b in confirmed.json()["items"]] == [ids[1], ids[3]]
    by_support = await h.client.get(
        "/api/v1/bookings", params={"userId": other}, headers=h.auth("s1", "SUPPORT")
    )
    assert [b["userId"] for b in by_support.json()["items"]] == [other]
    bad = await h.client.get("/api/v1/bookings", params={"cursor": "nope"}, headers=h.auth(user))
    assert bad.status_code == 422 and bad.json()["code"] == "INVALID_CURSOR"


async def test_cancel_produces_a_command_and_terminal_bookings_conflict(
    ingress: Any, rows: Rows, group_id: str
) -> None:
    h = await ingress()
    user = uid("u")
    created = await h.book(user)
    booking_id = created.json()["bookingId"]
    cancel = await h.client.put(f"/api/v1/bookings/{booking_id}/cancel", headers=h.auth(user))
    assert cancel.status_code == 202, cancel.text
    assert cancel.json()["bookingId"] == booking_id

    done = uid("b")
    rows.add("booking", "bookings", "booking_id", booking_row(done, user, status="COMPLETED"))
    again = await h.client.put(f"/api/v1/bookings/{done}/cancel", headers=h.auth(user))
    assert again.status_code == 409 and again.json()["code"] == "BOOKING_TERMINAL"

    commands = [
        DECODER.decode(r.value()) for r in read_topic(h.settings, "booking-commands", group_id)
    ]
    cancels = [c for c in commands if isinstance(c, CancelBooking)]
    assert [(c.booking_id, c.requested_by) for c in cancels] == [(booking_id, user)]
