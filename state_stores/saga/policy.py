"""How long the saga waits, how often it retries, and what it assumes when nothing is said."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from ..exceptions import InvalidPolicyError


@dataclass(frozen=True)
class SagaPolicy:
    hold_ttl_ms: int = 600_000
    # One deadline covers reserve → authorize → confirm; past it the booking fails with TIMEOUT.
    action_deadline_ms: int = 30_000
    retry_backoff_base_ms: int = 1_000
    retry_backoff_max_ms: int = 60_000
    max_capture_attempts: int = 5
    # CONFIRMED is announced at authorization when the hold outlives now by this much;
    # closer to its expiry the saga waits for the ledger's confirmation.
    early_confirm_margin_ms: int = 120_000
    # Used for an amount whose currency the ledger left empty.
    currency: str = "USD"

    def __post_init__(self) -> None:
        durations = (
            self.hold_ttl_ms,
            self.action_deadline_ms,
            self.retry_backoff_base_ms,
            self.retry_backoff_max_ms,
        )
        if min(durations) <= 0 or self.max_capture_attempts < 1:
            raise InvalidPolicyError(f"durations and attempts must be positive: {self}")
        if self.retry_backoff_max_ms < self.retry_backoff_base_ms:
            raise InvalidPolicyError("retry_backoff_max_ms is below retry_backoff_base_ms")

    def retry_delay_ms(self, booking_id: str, attempt: int) -> int:
        """Exponential backoff after failed attempt number `attempt` (1-based), capped.

        The delay lies between half and all of the capped value, picked by hashing the
        booking: deterministic, yet a burst of bookings failing together during a gateway
        outage spreads its retries instead of hitting the recovered gateway in lockstep.
        """
        exponent = min(max(attempt, 1) - 1, 32)
        capped = min(self.retry_backoff_base_ms << exponent, self.retry_backoff_max_ms)
        digest = hashlib.blake2b(f"{booking_id}:{attempt}".encode(), digest_size=2).digest()
        fraction = int.from_bytes(digest, "big") / 0xFFFF
        return capped // 2 + round(capped / 2 * fraction)
