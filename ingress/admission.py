"""Admission in one Redis round trip: rate limits, idempotency claim and open-holds cap.

One Lua script (EVALSHA), atomic, per request:

1. Rates (GCRA, a token bucket kept as one "theoretical arrival time" per key): `limit`
   requests per `period`, bursts up to `limit`, per IP and per user. Both buckets are
   checked and charged only when both allow. Time comes from Redis (one clock for every
   ingress instance).
2. Idempotency (when the request carries a key): SET NX of a lock record holding the
   request fingerprint; if a record exists it is returned for the caller to replay,
   reject (different fingerprint) or wait on (still running).
3. Stock (create only): when the availability cache (written through from the inventory
   ledger's snapshots) says the item cannot cover the quantity, answer SOLD_OUT here and
   undo the claim. A flash sale's losing requests then cost one script, not a booking
   saga each. The gate only ever refuses, and only what the ledger would refuse as of
   its last snapshot (a hold freed since is visible one snapshot later); an item the
   cache does not know goes on to the ledger, which stays the one authority.
4. Holds (create only): the booking takes a slot in the user's open-holds set, unless the
   user is at the cap (then the claim is undone). Taking the slot before producing is
   what keeps concurrent requests from all passing the cap; the booking cache sink removes
   the member once the booking leaves PENDING, and entries older than the hold TTL expire.
"""

from __future__ import annotations

import string
from enum import IntEnum
from typing import NamedTuple

from .config import LimitsConfig
from .lua import ADMISSION
from .redis_gate import RedisGate


class Outcome(IntEnum):
    ADMITTED = 0
    RATE_LIMITED = 1
    KEY_EXISTS = 2  # an idempotency record exists: `record` holds it
    HOLDS_CAP = 3
    SOLD_OUT = 4


class RateDecision(NamedTuple):  # tuples: built per request, cheaper than frozen dataclasses
    limit: int
    remaining: int
    reset_s: int
    retry_after_s: int

    def headers(self) -> dict[str, str]:
        if self.remaining < 0:  # rates were not charged (a retry while waiting)
            return {}
        headers = {
            "RateLimit-Limit": str(self.limit),
            "RateLimit-Remaining": str(self.remaining),
            "RateLimit-Reset": str(self.reset_s),
        }
        if self.retry_after_s > 0:
            headers["Retry-After"] = str(self.retry_after_s)
        return headers


class Hold(NamedTuple):
    """What a create takes: a slot in the user's open-holds set (key from
    sinks.cache_contract.open_holds_key) and, when `stock_key` is set, that much stock in
    the item's cached availability (sinks.cache_contract.availability_key)."""

    key: str
    member: str
    stock_key: str = ""
    quantity: int = 0


class Claim(NamedTuple):
    """An idempotency key to claim: its Redis key, the lock record, and what that holds."""

    key: str
    lock_record: bytes
    fingerprint: str
    owner: str


class Admission(NamedTuple):
    outcome: Outcome
    rate: RateDecision
    record: bytes | None = None


class Admitter:
    def __init__(
        self, gate: RedisGate, limits: LimitsConfig, prefix: str, lock_ms: int, stale_s: int
    ):
        self.gate, self.limits, self.prefix = gate, limits, prefix
        script = string.Template(ADMISSION).substitute(
            period_us=int(limits.rate_period_s * 1_000_000), ip_rate=max(1, limits.ip_rate),
            user_rate=max(1, limits.user_rate), lock_ms=lock_ms, holds_cap=limits.holds_cap,
            stale_ms=stale_s * 1000,
        )  # fmt: skip
        self._sha = gate.scripts.register(script)
        self._guard = gate.guard("admission")

    async def admit(
        self,
        ip: str,
        user: str | None,
        claim: Claim | None = None,
        hold: Hold | None = None,
        *,
        charge: bool = True,
    ) -> Admission:
        keys = [
            f"{self.prefix}tessera:rl:ip:{ip}",
            f"{self.prefix}tessera:rl:user:{user}" if user is not None else "",
            claim.key if claim else "",
            hold.key if hold else "",
            hold.stock_key if hold else "",
        ]
        args = [
            "1" if charge else "0",
            claim.lock_record if claim else b"",
            hold.member if hold else "",
            hold.quantity if hold else 0,
        ]
        with self._guard:
            reply = await self.gate.scripts.call(self._sha, keys, args)
        limit, remaining, reset_s, retry_s = reply[1]  # Lua numbers arrive as ints
        record = reply[2] if len(reply) > 2 else None
        return Admission(
            _OUTCOMES[reply[0]], RateDecision(limit, remaining, reset_s, retry_s), record
        )


_OUTCOMES = {int(outcome): outcome for outcome in Outcome}
