"""Rate limits (per user, per IP), the open-holds cap, and body limits."""

from __future__ import annotations

from typing import Any

import pytest

from .conftest import uid

pytestmark = pytest.mark.anyio


async def test_user_limit_boundary_100th_ok_101st_429(ingress: Any) -> None:
    h = await ingress(user_rate=100, rate_period_s=3600)
    headers = h.auth(uid("u"))
    remaining = []
    for _ in range(100):
        response = await h.client.get("/api/v1/bookings", headers=headers)
        assert response.status_code == 200, response.text
        remaining.append(int(response.headers["ratelimit-remaining"]))
        assert response.headers["ratelimit-limit"] == "100"
    assert remaining[0] == 99 and remaining[-1] == 0
    assert remaining == sorted(remaining, reverse=True)
    limited = await h.client.get("/api/v1/bookings", headers=headers)
    assert limited.status_code == 429
    assert limited.json()["code"] == "RATE_LIMITED"
    assert int(limited.headers["retry-after"]) >= 1
    assert limited.headers["ratelimit-remaining"] == "0"
    # another user on the same IP is unaffected
    assert (await h.client.get("/api/v1/bookings", headers=h.auth(uid("u")))).status_code == 200


async def test_ip_limit_counts_every_user(ingress: Any) -> None:
    h = await ingress(ip_rate=5, rate_period_s=3600)
    statuses = [
        (await h.client.get("/api/v1/bookings", headers=h.auth(uid("u")))).status_code
        for _ in range(6)
    ]
    assert statuses == [200] * 5 + [429]
    # a bad token still spends the IP budget
    assert (await h.client.get("/api/v1/bookings")).status_code == 429


async def test_open_holds_cap(ingress: Any) -> None:
    h = await ingress(holds_cap=2)
    user, first_key = uid("u"), uid("k")
    assert (await h.book(user, key=first_key)).status_code == 202
    assert (await h.book(user)).status_code == 202
    capped = await h.book(user)
    assert capped.status_code == 429 and capped.json()["code"] == "HOLDS_CAP"
    assert (await h.book(user, key=first_key)).status_code == 202  # a replay is not a new hold
    partner = await h.book(uid("p"), "PARTNER", userId=user)  # on behalf of the same user
    assert partner.status_code == 429 and partner.json()["code"] == "HOLDS_CAP"
    assert (await h.book(uid("u"))).status_code == 202


async def test_body_limit_and_media_type(ingress: Any) -> None:
    h = await ingress(max_body_bytes=256)
    headers = {**h.auth(uid("u"), key=uid("k")), "Content-Type": "application/json"}
    big = b'{"itemId": "' + b"x" * 300 + b'", "quantity": 1, "paymentMethod": "card"}'
    response = await h.client.post("/api/v1/bookings", content=big, headers=headers)
    assert response.status_code == 413 and response.json()["code"] == "PAYLOAD_TOO_LARGE"
    text = {**headers, "Content-Type": "text/plain"}
    response = await h.client.post("/api/v1/bookings", content=b"{}", headers=text)
    assert response.status_code == 415
