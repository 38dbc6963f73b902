"""Client settings every Tessera producer shares.

One partitioner everywhere: murmur2 as the Java client uses it (and quixstreams sets).
librdkafka's default (crc32-based) would put the same key on another partition than the
stateful pipelines' own producers do, splitting one item's ledger across two owners.
"""

from __future__ import annotations

from typing import Any

PARTITIONER = "murmur2_random"


def producer_config(bootstrap: str, **extra: Any) -> dict[str, Any]:
    """An idempotent, acks=all producer on the shared partitioner."""
    return {
        "bootstrap.servers": bootstrap,
        "partitioner": PARTITIONER,
        "enable.idempotence": True,
        "acks": "all",
        "linger.ms": 2,
        "log_level": 3,
        **extra,
    }


def poll_batch(consumer: Any, max_records: int, timeout_s: float) -> list[Any]:
    """Wait up to `timeout_s` for one record, then take what else is buffered, up to
    `max_records`, without waiting. librdkafka's consume(n, timeout) alone waits until n
    records arrived or the timeout passed: below n records per timeout that is the whole
    timeout added to every record's latency."""
    first = consumer.poll(timeout_s)
    if first is None:
        return []
    return [first, *consumer.consume(max_records - 1, 0)] if max_records > 1 else [first]
