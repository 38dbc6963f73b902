"""Explicit invalidation of cached availability, for admin changes that bypass the stream.

A SetCapacity that the ledger applies arrives as an ItemSnapshot and the write-through
replaces the entry (a newer version); this is for everything else -- an operator fixing
data by hand, a restore -- after which the next read falls back to PostgreSQL.
"""

from __future__ import annotations

import logging

import redis

from sinks.cache_contract import availability_key

from ..base import metrics

logger = logging.getLogger(__name__)


def invalidate_item(client: redis.Redis, prefix: str, item_id: str) -> bool:
    """Drop the cached availability of `item_id`; True if there was an entry."""
    removed = bool(client.delete(availability_key(prefix, item_id)))
    metrics.ROWS.labels("redis-cache", "invalidated_items").inc()
    logger.info("item availability invalidated", extra={"item_id": item_id, "had_entry": removed})
    return removed
