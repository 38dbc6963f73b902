"""Every role against every endpoint, other users' ids, and fields a role may not set."""

from __future__ import annotations

import time
from datetime import UTC, datetime
from typing import Any

import msgspec
import pytest

from sinks.cache_contract import accepted_key, availability_key, booking_key

from .conftest import Harness, Rows, uid

pytestmark = pytest.mark.anyio
ROLES = ("USER", "PARTNER", "SUPPORT", "ADMIN")


def cached(booking_id: str, user: str, status: str, requested_by: str | None = None) -> bytes:
    now = int(time.time() * 1000)
    view: dict[str, Any] = {
        "booking_id": booking_id,
        "user_id": user,
        "item_id": "item-1",
        "quantity": 1,
        "status": status,
        "version": 2,
        "created_at": now,
        "updated_at": now,
    }
    if requested_by:
        view["requested_by"] = requested_by
    return msgspec.json.encode(view)


async def world(h: Harness, rows: Rows, redis_client: Any) -> dict[str, str]:
    """A USER's bookings created by a PARTNER (one CONFIRMED, one COMPLETED), a payment, an item."""
    names = {
        "USER": uid("user"),
        "PARTNER": uid("partner"),
        "SUPPORT": uid("support"),
        "ADMIN": uid("admin"),
        "b1": uid("b"),
        "b2": uid("b"),
        "item": uid("item"),
    }
    prefix = h.settings.topic_prefix
    for booking, status in (("b1", "CONFIRMED"), ("b2", "COMPLETED")):
        booking_id = names[booking]
        redis_client.set(booking_key(prefix, booking_id), cached(booking_id, names["USER"], status))
        redis_client.set(
            accepted_key(prefix, booking_id),
            cached(booking_id, names["USER"], "PENDING", requested_by=names["PARTNER"]),
        )
    item = {
        "item_id": names["item"],
        "capacity": 10,
        "held": 1,
        "sold": 2,
        "available": 7,
        "price_minor": 500,
        "currency": "USD",
        "version": 4,
    }
    redis_client.set(availability_key(prefix, names["item"]), msgspec.json.encode(item))
    rows.add(
        "payment",
        "payments",
        "booking_id",
        {
            "booking_id": names["b1"],
            "payment_id": uid("pay"),
            "amount_minor": 500,
            "currency": "USD",
            "status": "AUTHORIZED",
            "captured_count": 0,
            "version": 1,
            "updated_at": datetime.now(UTC),
        },
    )
    return names


def requests(n: dict[str, str], role: str) -> list[tuple[str, str, str, dict[str, Any] | None]]:
    """(name, method, path, json body) of every authenticated endpoint, as `role` would call it."""
    booking = {"itemId": n["item"], "quantity": 1, "paymentMethod": "pm_card_visa"}
    if role in ("PARTNER", "ADMIN"):
        booking["userId"] = n["USER"]
    return [
        ("create", "POST", "/api/v1/bookings", booking),
        ("list", "GET", "/api/v1/bookings", None),
        ("get", "GET", f"/api/v1/bookings/{n['b1']}", None),
        ("cancel", "PUT", f"/api/v1/bookings/{n['b1']}/cancel", None),
        ("events", "GET", f"/api/v1/bookings/{n['b2']}/events", None),
        ("inventory", "GET", f"/api/v1/inventory/{n['item']}", None),
        (
            "set-inventory",
            "PUT",
            f"/api/v1/inventory/{n['item']}",
            {"capacity": 20, "price": {"amount_minor": 700, "currency": "USD"}},
        ),
        ("payment", "GET", f"/api/v1/payments/{n['b1']}/status", None),
        ("refund", "POST", f"/api/v1/payments/{n['b1']}/refund", {"reason": "goodwill"}),
    ]


EXPECTED = {  # endpoint: statuses for USER, PARTNER, SUPPORT, ADMIN (each on its own data)
    "create": (202, 202, 403, 202),
    "list": (200, 403, 200, 200),
    "get": (200, 200, 200, 200),
    "cancel": (202, 202, 403, 202),
    "events": (200, 200, 200, 200),
    "inventory": (200, 200, 200, 200),
    "set-inventory": (403, 403, 403, 202),
    "payment": (200, 200, 200, 200),
    "refund": (403, 403, 202, 202),
}


async def test_every_role_on_every_endpoint(ingress: Any, rows: Rows, redis_client: Any) -> None:
    h = await ingress()
    n = await world(h, rows, redis_client)
    table: dict[str, tuple[int, ...]] = {}
    for name, *_ in requests(n, "USER"):
        statuses = []
        for role in ROLES:
            _, method, path, body = next(r for r in requests(n, role) if r[0] == name)
            headers = h.auth(n[role], role, key=uid("k"))
            response = await h.client.request(method, path, json=body, headers=headers)
            statuses.append(response.status_code)
            if response.status_code == 403:
                assert response.json()["code"] == "ROLE_NOT_ALLOWED"
        table[name] = tuple(statuses)
    assert table == EXPECTED
    for path in ("/healthz", "/readyz", "/metrics", "/openapi.json"):
        assert (await h.client.get(path)).status_code == 200, path


async def test_other_users_ids_answer_404(ingress: Any, rows: Rows, redis_client: Any) -> None:
    h = await ingress()
    n = await world(h, rows, redis_client)
    for role in ("USER", "PARTNER"):
        stranger = h.auth(uid("stranger"), role, key=uid("k"))
        for name, method, path, _ in requests(n, role):
            if name not in {"get", "cancel", "events", "payment"}:
                continue
            response = await h.client.request(method, path, headers=stranger)
            assert response.status_code == 404, (role, name, response.text)
            assert response.json()["code"] == "BOOKING_NOT_FOUND"
    # the owner still sees it: the 404 was about who asked, not what exists
    mine = await h.client.get(f"/api/v1/bookings/{n['b1']}", headers=h.auth(n["USER"], "USER"))
    assert mine.status_code == 200


async def test_fields_a_role_may_not_set_are_rejected(ingress: Any) -> None:
    h = await ingress()
    user = uid("u")
    for field, value in (("userId", uid("victim")), ("webhookUrl", "https://hook.example/x")):
        response = await h.book(user, "USER", **{field: value})
        assert response.status_code == 403, response.text
        assert (response.json()["code"], response.json()["field"]) == ("FIELD_NOT_ALLOWED", field)
    partner = await h.book(uid("p"), "PARTNER")
    assert partner.status_code == 422 and partner.json()["code"] == "USER_ID_REQUIRED"
    price = await h.book(user, "USER", price={"amount_minor": 1, "currency": "USD"})
    assert price.status_code == 422 and price.json()["code"] == "VALIDATION_FAILED"
    assert "price" in price.json()["detail"]
    listing = await h.client.get(
        "/api/v1/bookings", params={"userId": uid("victim")}, headers=h.auth(user)
    )
    assert listing.status_code == 403 and listing.json()["code"] == "FIELD_NOT_ALLOWED"
    unknown = await h.client.get("/api/v1/bookings", params={"admin": "1"}, headers=h.auth(user))
    assert unknown.status_code == 422 and unknown.json()["code"] == "INVALID_QUERY"
