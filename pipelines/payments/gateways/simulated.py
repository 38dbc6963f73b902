"""An in-process gateway with Stripe's test payment methods, latency and fault injection.

Used by unit tests, load tests and (served by `simulated_http`) chaos tests. Its ledger
keeps every side effect so tests can check the money invariants: at most one capture per
booking, and no authorization left neither captured, voided nor refunded.
"""

from __future__ import annotations

import asyncio
import logging
import os
import random
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Literal

from .base import GatewayResult, Operation, PaymentGateway, PaymentState
from .exceptions import GatewayConfigError
from .ledger import PaymentLedger
from .metrics import SIM_FAULTS

log = logging.getLogger(__name__)

Behaviour = Literal["approve", "decline", "hang", "error", "slow"]
TEST_PAYMENT_METHODS: Mapping[str, tuple[Behaviour, str | None]] = {
    "pm_card_visa": ("approve", None),
    "pm_card_mastercard": ("approve", None),
    "pm_card_chargeDeclined": ("decline", "card_declined"),
    "pm_card_chargeDeclinedInsufficientFunds": ("decline", "insufficient_funds"),
    "pm_card_timeout": ("hang", None),
    "pm_card_5xx": ("error", None),
    "pm_card_slow": ("slow", None),
}
# Far beyond any client timeout; the sleep is cancelled when the caller gives up.
HANG_S = 3600.0


@dataclass(frozen=True)
class SimulatedGatewayConfig:
    latency_ms: float = 0.0
    latency_jitter_ms: float = 0.0
    failure_rate: float = 0.0  # random retryable HTTP 500, before any side effect
    timeout_rate: float = 0.0  # side effect applied, then the answer never comes
    slow_ms: int = 2000
    # pm_card_timeout: how many calls with one idempotency key go unanswered before a
    # replay gets the stored outcome (3 = every attempt of the worker's default policy).
    timeout_hangs: int = 3
    seed: int | None = None

    def __post_init__(self) -> None:
        for rate in (self.failure_rate, self.timeout_rate):
            if not 0.0 <= rate <= 1.0:
                raise GatewayConfigError(f"fault rates must be within [0, 1], got {rate}")
        if min(self.latency_ms, self.latency_jitter_ms, self.slow_ms) < 0:
            raise GatewayConfigError("latencies must not be negative")

    @classmethod
    def from_env(cls, environ: Mapping[str, str] = os.environ) -> SimulatedGatewayConfig:
        seed = environ.get("TESSERA_SIM_SEED")
        return cls(
            latency_ms=float(environ.get("TESSERA_SIM_LATENCY_MS", "0")),
            latency_jitter_ms=float(environ.get("TESSERA_SIM_LATENCY_JITTER_MS", "0")),
            failure_rate=float(environ.get("TESSERA_SIM_FAILURE_RATE", "0")),
            timeout_rate=float(environ.get("TESSERA_SIM_TIMEOUT_RATE", "0")),
            slow_ms=int(environ.get("TESSERA_SIM_SLOW_MS", "2000")),
            timeout_hangs=int(environ.get("TESSERA_SIM_TIMEOUT_HANGS", "3")),
            seed=int(seed) if seed else None,
        )


class SimulatedGateway(PaymentGateway):
    name = "simulated"

    def __init__(self, config: SimulatedGatewayConfig | None = None) -> None:
        self.config = config or SimulatedGatewayConfig()
        self._rng = random.Random(self.config.seed)  # noqa: S311 - fault injection, not crypto
        self.ledger = PaymentLedger()
        self._hangs: dict[str, int] = {}

    async def authorize(
        self,
        *,
        booking_id: str,
        amount_minor: int,
        currency: str,
        payment_method: str,
        idempotency_key: str,
    ) -> GatewayResult:
        behaviour, code = TEST_PAYMENT_METHODS.get(payment_method, ("unknown", None))
        # pm_card_timeout is the ambiguous timeout: the first call authorizes, and the first
        # `timeout_hangs` calls with the key never answer; a later replay gets the stored
        # outcome, so a void after the timeout can find the payment (Stripe's idempotent
        # replay does the same once the gateway answers again).
        hang_after = False
        if behaviour == "hang":
            self._hangs[idempotency_key] = self._hangs.get(idempotency_key, 0) + 1
            hang_after = self._hangs[idempotency_key] <= self.config.timeout_hangs
        if behaviour == "error":
            return GatewayResult("FAILED", retryable=True, detail="HTTP 500")
        ref = f"sim_pi_{self._rng.getrandbits(96):024x}"
        args = (ref, booking_id, amount_minor, currency)

        def apply() -> GatewayResult:
            if behaviour == "unknown":
                return GatewayResult("FAILED", detail=f"resource_missing: {payment_method}")
            if behaviour == "decline":
                return self.ledger.decline(*args, code=code or "card_declined")
            return self.ledger.authorize(*args)

        extra_ms = self.config.slow_ms if behaviour == "slow" else 0.0
        fingerprint = ("AUTHORIZE", booking_id, amount_minor, currency, payment_method)
        result = await self._execute("AUTHORIZE", idempotency_key, fingerprint, apply, extra_ms)
        if hang_after:
            SIM_FAULTS.labels("timeout").inc()
            await asyncio.sleep(HANG_S)
        return result

    async def capture(
        self, *, gateway_ref: str, amount_minor: int, idempotency_key: str
    ) -> GatewayResult:
        fingerprint = ("CAPTURE", gateway_ref, amount_minor)
        return await self._execute(
            "CAPTURE",
            idempotency_key,
            fingerprint,
            lambda: self.ledger.capture(gateway_ref, amount_minor),
        )

    async def void(self, *, gateway_ref: str, idempotency_key: str) -> GatewayResult:
        fingerprint = ("VOID", gateway_ref)
        return await self._execute(
            "VOID", idempotency_key, fingerprint, lambda: self.ledger.void(gateway_ref)
        )

    async def refund(
        self, *, gateway_ref: str, amount_minor: int, idempotency_key: str
    ) -> GatewayResult:
        fingerprint = ("REFUND", gateway_ref, amount_minor)
        return await self._execute(
            "REFUND",
            idempotency_key,
            fingerprint,
            lambda: self.ledger.refund(gateway_ref, amount_minor),
        )

    async def status(self, *, gateway_ref: str) -> PaymentState:
        await self._latency(0.0)
        return self.ledger.state(gateway_ref)

    def audit(self) -> dict[str, dict[str, Any]]:
        return self.ledger.audit()

    async def close(self) -> None:
        return None

    async def _execute(
        self,
        operation: Operation,
        key: str,
        fingerprint: tuple[Any, ...],
        apply: Callable[[], GatewayResult],
        extra_ms: float = 0.0,
    ) -> GatewayResult:
        await self._latency(extra_ms)
        if self._rng.random() < self.config.failure_rate:
            SIM_FAULTS.labels("http_500").inc()
            log.debug("injected HTTP 500 on %s key=%s", operation, key)
            return GatewayResult("FAILED", retryable=True, detail="HTTP 500")
        # No await between replay check and apply: concurrent calls with one key see one effect.
        result = self.ledger.execute(key, fingerprint, apply)
        if self._rng.random() < self.config.timeout_rate:
            # The dangerous case: money moved but the caller never hears of it. Only a
            # retry with the same idempotency key can learn the outcome.
            SIM_FAULTS.labels("timeout").inc()
            log.debug("injected timeout after %s key=%s", operation, key)
            await asyncio.sleep(HANG_S)
        return result

    async def _latency(self, extra_ms: float) -> None:
        jitter = self._rng.uniform(0, self.config.latency_jitter_ms)
        delay_s = (self.config.latency_ms + jitter + extra_ms) / 1000
        if delay_s > 0:
            await asyncio.sleep(delay_s)
