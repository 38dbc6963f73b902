"""Redis housekeeping around the ingress benchmark's rounds.

The bench creates ~8k bookings a second, and each leaves two records in Redis for 24 h
(the idempotency record, the accepted booking) and ~1.6 KB of AOF. Left alone, that makes
two background events land inside some rounds and not others, on the CPU Redis shares
with wrk and Kafka:

- AOF rewrites. At the default `auto-aof-rewrite-min-size` of 64 MB one starts every
  ~20 s of load: a fork (25 ms with Redis stopped) and a child that rewrites the whole
  keyspace for 4-6 s. Measured per 2 s of load: 7.5-8.4k req/s outside a rewrite,
  5.9-6.4k during one.
- Dict rehashes. Crossing 2^20 keys, Redis's CPU went from 35% to 60% for ~4 s and the
  ingress to ~6.1k.

On hosts of their own (what `backends_on` stands in for) neither would take CPU from the
backends' request work. So for the bench: the run's keys are dropped before each
ingress round (`delete_prefixed_keys`: every round starts from the same keyspace, and the
ingress makes its records and buckets again as it needs them) and automatic AOF rewrites
wait until the bench is over; the setting is given back afterwards, and one rewrite
then compacts what the bench appended.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Iterator

import redis

REWRITE_SETTING = "auto-aof-rewrite-percentage"


def rewrite_in_progress(client: redis.Redis) -> bool:
    info = client.info("persistence")
    return bool(info["aof_rewrite_in_progress"] or info["aof_rewrite_scheduled"])


def wait_for_rewrite(client: redis.Redis, timeout_s: float = 120.0) -> None:
    """Return once no AOF rewrite runs or waits to run (a rewrite in a round skews it)."""
    deadline = time.monotonic() + timeout_s
    while rewrite_in_progress(client):
        if time.monotonic() > deadline:
            raise SystemExit(f"Redis still rewriting its AOF after {timeout_s:.0f} s")
        time.sleep(0.2)


@contextlib.contextmanager
def rewrites_deferred(redis_url: str) -> Iterator[None]:
    """No automatic AOF rewrite while the block runs; the setting back and one rewrite
    (when the AOF is on) afterwards."""
    with redis.Redis.from_url(redis_url) as client:
        previous = client.config_get(REWRITE_SETTING)[REWRITE_SETTING]
        wait_for_rewrite(client)
        client.config_set(REWRITE_SETTING, 0)
        try:
            yield
        finally:
            client.config_set(REWRITE_SETTING, previous)
            if client.info("persistence")["aof_enabled"] and not rewrite_in_progress(client):
                client.bgrewriteaof()
