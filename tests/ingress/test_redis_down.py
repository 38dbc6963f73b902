"""Redis down: state-changing requests answer 503 at once, reads fall back to Postgres."""

from __future__ import annotations

import dataclasses
import time
from datetime import UTC, datetime
from typing import Any

import pytest

from .conftest import Rows, free_port, uid
from .test_bookings import booking_row

pytestmark = pytest.mark.anyio


async def test_writes_503_reads_from_postgres(
    ingress: Any, isolated_settings: Any, rows: Rows, monkeypatch: pytest.MonkeyPatch
) -> None:
    closed = free_port()  # nothing listens here
    monkeypatch.setenv("TESSERA_REDIS_URL", f"redis://127.0.0.1:{closed}/0")
    settings = dataclasses.replace(isolated_settings(), redis_port=closed)
    h = await ingress(settings=settings)
    user = uid("u")
    booking_id = uid("b")
    rows.add("booking", "bookings", "booking_id", booking_row(booking_id, user, status="CONFIRMED"))
    item_id = uid("item")
    rows.add(
        "inventory",
        "inventory",
        "item_id",
        {
            "item_id": item_id,
            "capacity": 5,
            "held": 1,
            "sold": 1,
            "price_minor": 100,
            "currency": "USD",
            "version": 1,
            "updated_at": datetime.now(UTC),
        },
    )

    started = time.monotonic()
    created = await h.book(user)
    assert created.status_code == 503, created.text
    assert created.json()["code"] == "REDIS_UNAVAILABLE" and created.headers["retry-after"] == "1"
    cancel = await h.client.put(f"/api/v1/bookings/{booking_id}/cancel", headers=h.auth(user))
    assert cancel.status_code == 503
    assert time.monotonic() - started < 3, "must fail fast, not retry for seconds"

    got = await h.client.get(f"/api/v1/bookings/{booking_id}", headers=h.auth(user))
    assert got.status_code == 200 and got.json()["status"] == "CONFIRMED"
    listed = await h.client.get("/api/v1/bookings", headers=h.auth(user))
    assert [b["bookingId"] for b in listed.json()["items"]] == [booking_id]
    item = await h.client.get(f"/api/v1/inventory/{item_id}", headers=h.auth(user))
    assert item.status_code == 200 and item.json()["available"] == 3
    # unknown to Postgres and the accepted record cannot be checked: 503, not a wrong 404
    unknown = await h.client.get(f"/api/v1/bookings/{uid('b')}", headers=h.auth(user))
    assert unknown.status_code == 503
    ready = await h.client.get("/readyz")
    assert ready.status_code == 503 and ready.json()["checks"]["redis"] != "ok"
    assert ready.json()["checks"]["kafka"] == "ok"
