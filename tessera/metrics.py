"""Helpers for Prometheus metrics shared by every Tessera process."""

from __future__ import annotations

import functools
from typing import Any


@functools.lru_cache(maxsize=4096)
def bound(metric: Any, *labels: str) -> Any:
    """`metric.labels(*labels)`, looked up once: labels() costs more than the update."""
    return metric.labels(*labels)
