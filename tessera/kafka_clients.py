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
