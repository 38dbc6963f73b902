"""The real server: granian (uvloop) in a subprocess, as the process supervisor runs it."""

from __future__ import annotations

import time
from typing import Any

import httpx
import msgspec
import pytest

from sinks.cache_contract import push_channel

from .conftest import Server, uid
from .keyring import KeyRing

pytestmark = pytest.mark.anyio


def view(booking_id: str, user: str, status: str, version: int) -> bytes:
    now = int(time.time() * 1000)
    return msgspec.json.encode(
        {
            "booking_id": booking_id,
            "user_id": user,
            "item_id": "item-1",
            "quantity": 1,
            "status": status,
            "amount_minor": 1500,
            "currency": "USD",
            "version": version,
            "created_at": now,
            "updated_at": now,
        }
    )


async def test_serves_ready_bookings_and_metrics(
    granian_server: Server, module_keyring: KeyRing
) -> None:
    async with httpx.AsyncClient(base_url=granian_server.url, timeout=10) as client:
        ready = await client.get("/readyz")
        assert ready.status_code == 200, ready.text
        user = uid("u")
        headers = {**module_keyring.bearer(user), "Idempotency-Key": uid("k")}
        body = {"itemId": "item-1", "quantity": 1, "paymentMethod": "pm_card_visa"}
        created = await client.post("/api/v1/bookings", json=body, headers=headers)
        assert created.status_code == 202, created.text
        got = await client.get(created.headers["location"], headers=module_keyring.bearer(user))
        assert got.json()["status"] == "PENDING"
        metrics = (await client.get("/metrics")).text
        assert (
            'tessera_ingress_requests_total{method="POST",route="createBooking",status="202"}'
            in metrics
        )
        assert "tessera_ingress_request_duration_seconds_bucket" in metrics
        assert "tessera_ingress_kafka_ack_seconds_count" in metrics


async def test_sse_streams_status_changes_until_terminal(
    granian_server: Server, module_keyring: KeyRing, redis_client: Any
) -> None:
    user = uid("u")
    headers = {**module_keyring.bearer(user), "Idempotency-Key": uid("k")}
    body = {"itemId": "item-1", "quantity": 1, "paymentMethod": "pm_card_visa"}
    async with httpx.AsyncClient(base_url=granian_server.url, timeout=10) as client:
        booking_id = (await client.post("/api/v1/bookings", json=body, headers=headers)).json()[
            "bookingId"
        ]
        channel = push_channel(granian_server.settings.topic_prefix, booking_id)
        events: list[dict[str, Any]] = []
        heartbeats = 0
        path = f"/api/v1/bookings/{booking_id}/events"
        async with client.stream("GET", path, headers=module_keyring.bearer(user)) as stream:
            assert stream.status_code == 200
            assert stream.headers["content-type"] == "text/event-stream"
            async for line in stream.aiter_lines():
                if line.startswith(":"):
                    heartbeats += 1
                    if heartbeats == 1:  # idle long enough for a heartbeat: now publish
                        redis_client.publish(channel, view(booking_id, user, "PENDING", 0))  # old
                        redis_client.publish(channel, view(booking_id, user, "CONFIRMED", 1))
                        redis_client.publish(channel, view(booking_id, user, "COMPLETED", 2))
                elif line.startswith("data: "):
                    events.append(msgspec.json.decode(line[6:]))
        assert [(e["status"], e["version"]) for e in events] == [
            ("PENDING", 0),
            ("CONFIRMED", 1),
            ("COMPLETED", 2),
        ]
        assert heartbeats >= 1
        assert events[-1]["amount"] == {"amount_minor": 1500, "currency": "USD"}
        other = await client.get(path, headers=module_keyring.bearer(uid("u")))
        assert other.status_code == 404
