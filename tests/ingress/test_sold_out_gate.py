"""The sold-out gate: admission refuses a create the cached availability cannot cover."""

from __future__ import annotations

from typing import Any

import pytest
import redis

from ingress.views import CachedItem, encode
from schemas.booking_commands import DECODER, CreateBooking
from sinks.cache_contract import availability_key

from .conftest import read_topic, uid

pytestmark = pytest.mark.anyio


def cache_availability(client: redis.Redis, prefix: str, item_id: str, available: int) -> None:
    """What the cache sink writes from an inventory snapshot (sinks/redis_cache/views.py)."""
    item = CachedItem(item_id=item_id, capacity=10, sold=10 - available, available=available)
    client.set(availability_key(prefix, item_id), encode(item))


async def test_a_sold_out_item_is_refused_at_admission_and_nothing_reaches_kafka(
    ingress: Any, redis_client: redis.Redis
) -> None:
    h = await ingress()
    prefix, user = h.settings.topic_prefix, uid("u")
    sold_out, unknown, in_stock = uid("item"), uid("item"), uid("item")
    cache_availability(redis_client, prefix, sold_out, 0)
    cache_availability(redis_client, prefix, in_stock, 2)

    key = uid("k")
    refused = await h.book(user, key=key, itemId=sold_out)
    assert refused.status_code == 409, refused.text
    assert refused.json()["code"] == "SOLD_OUT"
    too_many = await h.book(user, itemId=in_stock, quantity=3)
    assert too_many.status_code == 409 and too_many.json()["code"] == "SOLD_OUT"
    # the cache does not know it: the ledger decides; enough stock: accepted
    assert (await h.book(user, itemId=unknown)).status_code == 202
    assert (await h.book(user, itemId=in_stock, quantity=2)).status_code == 202

    # a refusal is not stored under the key: once stock is back, the same key books
    cache_availability(redis_client, prefix, sold_out, 1)
    retried = await h.book(user, key=key, itemId=sold_out)
    assert retried.status_code == 202, retried.text

    commands = [
        DECODER.decode(r.value()) for r in read_topic(h.settings, "booking-commands", uid("g"))
    ]
    created = sorted((c.item_id, c.quantity) for c in commands if isinstance(c, CreateBooking))
    assert created == sorted([(unknown, 1), (in_stock, 2), (sold_out, 1)])


async def test_the_gate_can_be_turned_off(ingress: Any, redis_client: redis.Redis) -> None:
    h = await ingress(sold_out_gate=False)
    item = uid("item")
    cache_availability(redis_client, h.settings.topic_prefix, item, 0)
    assert (await h.book(uid("u"), itemId=item)).status_code == 202  # the ledger refuses it
