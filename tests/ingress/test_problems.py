"""Errors are RFC 9457 problem+json with a machine-readable code."""

from __future__ import annotations

from typing import Any

import pytest

from .conftest import uid

pytestmark = pytest.mark.anyio


async def test_errors_are_problem_json(ingress: Any) -> None:
    h = await ingress()
    auth = h.auth(uid("u"), key=uid("k"))
    json_headers = {**auth, "Content-Type": "application/json"}
    cases = [
        (await h.client.get("/nope"), 404, "NO_ROUTE"),
        (await h.client.delete("/api/v1/bookings", headers=auth), 405, "METHOD_NOT_ALLOWED"),
        (
            await h.client.post("/api/v1/bookings", content=b"{", headers=json_headers),
            400,
            "MALFORMED_JSON",
        ),
        (
            await h.client.post(
                "/api/v1/bookings",
                json={"itemId": "i", "quantity": 0, "paymentMethod": "c"},
                headers=auth,
            ),
            422,
            "VALIDATION_FAILED",
        ),
        (await h.client.post("/api/v1/bookings", headers=auth), 422, "BODY_REQUIRED"),
        (
            await h.client.put(f"/api/v1/bookings/{uid('b')}/cancel", json={"x": 1}, headers=auth),
            400,
            "BODY_NOT_ALLOWED",
        ),
        (
            await h.client.get("/api/v1/bookings", params={"limit": "1000"}, headers=auth),
            422,
            "INVALID_QUERY",
        ),
        (await h.client.get("/api/v1/bookings/a%00b", headers=auth), 404, "NOT_FOUND"),
    ]
    for response, status, code in cases:
        assert response.status_code == status, (code, response.text)
        assert response.headers["content-type"] == "application/problem+json"
        problem = response.json()
        assert problem["status"] == status and problem["code"] == code
        assert problem["type"] == f"urn:tessera:problem:{code.lower()}"
        assert problem["title"] and problem["detail"] and problem["instance"].startswith("/")
        assert problem["requestId"] == response.headers["x-request-id"]
    assert cases[1][0].headers["allow"] == "GET, POST"


async def test_encoded_slash_stays_in_one_segment(ingress: Any) -> None:
    h = await ingress()
    response = await h.client.get("/api/v1/bookings/a%2Fb", headers=h.auth(uid("u")))
    assert response.status_code == 404 and response.json()["code"] == "BOOKING_NOT_FOUND"
