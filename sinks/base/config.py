"""Frozen settings of the batch loop and of retry backoff."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass


@dataclass(frozen=True)
class Backoff:
    """Exponential backoff: initial_s * multiplier**attempt, capped at max_s, with jitter."""

    initial_s: float = 0.1
    max_s: float = 5.0
    multiplier: float = 2.0
    jitter: float = 0.2  # +/- fraction, derived from a seed so it is reproducible

    def delay(self, attempt: int, seed: str = "") -> float:
        base = min(self.max_s, self.initial_s * self.multiplier ** max(0, attempt))
        if not self.jitter:
            return base
        digest = hashlib.blake2b(f"{seed}:{attempt}".encode(), digest_size=2).digest()
        spread = int.from_bytes(digest, "big") / 0xFFFF * 2 - 1  # in [-1, 1]
        return max(0.0, base * (1 + self.jitter * spread))


@dataclass(frozen=True)
class BatchConfig:
    """How a sink consumes: batch bounds, consumer tuning, and backoff while paused."""

    max_records: int = 2000
    max_wait_s: float = 0.05
    backoff: Backoff = Backoff()
    session_timeout_ms: int = 10_000
    max_poll_interval_ms: int = 300_000


DEFAULT_BATCH = BatchConfig()
