"""Kafka not acknowledging: 503, nothing kept (lock, hold), and a retry with the key books once."""

from __future__ import annotations

import time
from typing import Any

import pytest

from ingress.config import BackendConfig
from sinks.cache_contract import open_holds_key

from .conftest import free_port, read_topic, uid

pytestmark = pytest.mark.anyio


async def test_unacknowledged_create_is_503_and_retry_books_once(
    ingress: Any,
    isolated_settings: Any,
    redis_client: Any,
    group_id: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    settings = isolated_settings()
    user, key = uid("u"), uid("key")
    monkeypatch.setenv("TESSERA_KAFKA_BOOTSTRAP", f"127.0.0.1:{free_port()}")
    broken = await ingress(
        settings=settings, holds_cap=1, backend=BackendConfig(kafka_delivery_timeout_ms=1000)
    )
    started = time.monotonic()
    failed = await broken.book(user, key=key)
    assert failed.status_code == 503, failed.text
    assert failed.json()["code"] == "KAFKA_UNAVAILABLE" and failed.headers["retry-after"] == "1"
    assert time.monotonic() - started < 5
    assert redis_client.zcard(open_holds_key(settings.topic_prefix, user)) == 0  # hold given back
    ready = await broken.client.get("/readyz")
    assert ready.status_code == 503 and ready.json()["checks"]["kafka"] != "ok"

    monkeypatch.delenv("TESSERA_KAFKA_BOOTSTRAP")
    healthy = await ingress(settings=settings, holds_cap=1)
    retried = await healthy.book(user, key=key)
    assert retried.status_code == 202, retried.text  # the lock was released, the cap not used up
    assert (await healthy.book(user, key=key)).content == retried.content
    records = read_topic(settings, "booking-commands", group_id)
    assert [r.key().decode() for r in records] == [retried.json()["bookingId"]]
