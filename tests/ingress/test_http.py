"""Request and response helpers: an absent query string, and the response headers."""

from __future__ import annotations

from typing import Any

import pytest

from ingress.http import JSON, HttpRequest, HttpResponse


def request(query_string: bytes | None) -> HttpRequest:
    scope: dict[str, Any] = {"method": "GET", "path": "/x", "headers": []}
    if query_string is not None:
        scope["query_string"] = query_string
    return HttpRequest(scope, None, None, {})  # type: ignore[arg-type]


def test_query_pairs_of_no_and_some_query() -> None:
    assert request(None).query_pairs() == []
    assert request(b"").query_pairs() == []
    assert request(b"status=PENDING&limit=").query_pairs() == [("status", "PENDING"), ("limit", "")]


@pytest.mark.anyio
async def test_response_headers_carry_the_extra_ones_and_its_own_win() -> None:
    sent: list[dict[str, Any]] = []

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    response = HttpResponse(202, b"{}", JSON, {"Location": "/a", "X-Request-Id": "mine"})
    await response.send(send, {"X-Request-Id": "r1", "RateLimit-Limit": "100"})
    assert sent[0]["headers"] == [
        (b"content-type", b"application/json"),
        (b"content-length", b"2"),
        (b"x-request-id", b"mine"),
        (b"ratelimit-limit", b"100"),
        (b"location", b"/a"),
    ]
    plain = HttpResponse(200, b"ok", "text/plain")
    sent.clear()
    await plain.send(send, {"X-Request-Id": "r2"})
    assert sent[0]["headers"][0] == (b"content-type", b"text/plain")
    assert sent[0]["headers"][2] == (b"x-request-id", b"r2")
    assert sent[1] == {"type": "http.response.body", "body": b"ok"}
