"""Timeout, retry, circuit breaker and bulkhead around any gateway.

The seed's resilience rules (Resilience4j in the original design) applied per call:
- timeout: every attempt is bounded by `asyncio.wait_for`; a timeout is a retryable FAILED.
- retry: only retryable failures, up to `max_attempts` attempts in total, exponential
  backoff with full jitter, and always the caller's idempotency key, so an attempt that
  timed out after moving money is answered by replay instead of charging again.
- circuit breaker: counts only gateway-health failures (timeouts, 5xx, connection). A
  decline or a refused request proves the gateway is up, so it counts as a success.
- bulkhead: a semaphore bounds attempts in flight, so one slow gateway cannot absorb every
  task of the worker; backoff sleeps do not hold a slot.
"""

from __future__ import annotations

import asyncio
import logging
import random
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, cast

from tessera.metrics import bound

from .base import GatewayResult, PaymentGateway, PaymentState
from .circuit_breaker import BreakerConfig, BreakerState, CircuitBreaker
from .exceptions import GatewayConfigError, GatewayError, GatewayUnavailableError
from .metrics import BREAKER_STATE, CALLS, IN_FLIGHT, LATENCY, RETRIES, record_error

log = logging.getLogger(__name__)

CIRCUIT_OPEN = "circuit_open"
TIMEOUT = "timeout"
# Identifiers only: amounts and payment methods stay out of logs.
_LOGGED_ARGS = ("booking_id", "gateway_ref", "idempotency_key")


@dataclass(frozen=True)
class ResilienceConfig:
    timeout_s: float = 5.0
    max_attempts: int = 3
    backoff_base_s: float = 0.1
    backoff_max_s: float = 2.0
    jitter: bool = True
    breaker_failure_rate: float = 0.5
    breaker_window: int = 20
    breaker_min_calls: int = 10
    breaker_open_s: float = 10.0
    bulkhead: int = 10

    def __post_init__(self) -> None:
        if self.timeout_s <= 0 or self.max_attempts < 1 or self.bulkhead < 1:
            raise GatewayConfigError("timeout_s, max_attempts and bulkhead must be positive")

    @property
    def breaker(self) -> BreakerConfig:
        return BreakerConfig(
            self.breaker_failure_rate,
            self.breaker_window,
            self.breaker_min_calls,
            self.breaker_open_s,
        )


class ResilientGateway(PaymentGateway):
    def __init__(
        self,
        inner: PaymentGateway,
        config: ResilienceConfig | None = None,
        *,
        name: str | None = None,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[Any]] = asyncio.sleep,
        rng: random.Random | None = None,
    ) -> None:
        self.inner = inner
        self.config = config or ResilienceConfig()
        self.name = name or inner.name
        self.breaker = CircuitBreaker(
            self.config.breaker, clock=clock, on_transition=self._on_transition
        )
        self._bulkhead = asyncio.Semaphore(self.config.bulkhead)
        self._sleep = sleep
        self._rng = rng or random.Random()  # noqa: S311 - backoff jitter, not crypto
        BREAKER_STATE.labels(self.name).set(BreakerState.CLOSED.value)

    async def authorize(
        self,
        *,
        booking_id: str,
        amount_minor: int,
        currency: str,
        payment_method: str,
        idempotency_key: str,
    ) -> GatewayResult:
        return await self._call(
            "AUTHORIZE",
            self.inner.authorize,
            booking_id=booking_id,
            amount_minor=amount_minor,
            currency=currency,
            payment_method=payment_method,
            idempotency_key=idempotency_key,
        )

    async def capture(
        self, *, gateway_ref: str, amount_minor: int, idempotency_key: str
    ) -> GatewayResult:
        return await self._call(
            "CAPTURE",
            self.inner.capture,
            gateway_ref=gateway_ref,
            amount_minor=amount_minor,
            idempotency_key=idempotency_key,
        )

    async def void(self, *, gateway_ref: str, idempotency_key: str) -> GatewayResult:
        return await self._call(
            "VOID", self.inner.void, gateway_ref=gateway_ref, idempotency_key=idempotency_key
        )

    async def refund(
        self, *, gateway_ref: str, amount_minor: int, idempotency_key: str
    ) -> GatewayResult:
        return await self._call(
            "REFUND",
            self.inner.refund,
            gateway_ref=gateway_ref,
            amount_minor=amount_minor,
            idempotency_key=idempotency_key,
        )

    async def status(self, *, gateway_ref: str) -> PaymentState:
        result = await self._call("STATUS", self._read_state, gateway_ref=gateway_ref)
        if result.outcome != "SUCCEEDED":
            raise GatewayUnavailableError(f"status of {gateway_ref}: {result.detail}")
        return cast(PaymentState, result.detail)

    async def close(self) -> None:
        await self.inner.close()

    async def _read_state(self, *, gateway_ref: str) -> GatewayResult:
        # Carries a state read through the result-based retry loop in `detail`.
        return GatewayResult("SUCCEEDED", detail=await self.inner.status(gateway_ref=gateway_ref))

    async def _call(
        self, operation: str, call: Callable[..., Awaitable[GatewayResult]], **kwargs: Any
    ) -> GatewayResult:
        context = {k: kwargs[k] for k in _LOGGED_ARGS if k in kwargs}
        for attempt in range(1, self.config.max_attempts + 1):
            result = await self._attempt(operation, lambda: call(**kwargs), context)
            final = (
                result.outcome != "FAILED"
                or not result.retryable
                or result.detail == CIRCUIT_OPEN
                or attempt == self.config.max_attempts
            )
            if final:
                break
            delay = self._backoff(attempt)
            RETRIES.labels(self.name, operation.lower()).inc()
            log.info(
                "gateway %s %s attempt %d failed (%s); retrying in %.3fs with the same key",
                self.name,
                operation.lower(),
                attempt,
                result.detail,
                delay,
                extra={"gateway": self.name, "attempt": attempt, **context},
            )
            await self._sleep(delay)
        bound(CALLS, self.name, operation.lower(), result.outcome).inc()
        if result.outcome == "FAILED":
            kind = "exhausted" if result.retryable else "rejected"
            record_error(
                log,
                gateway=self.name,
                operation=operation,
                kind=CIRCUIT_OPEN if result.detail == CIRCUIT_OPEN else kind,
                detail=result.detail,
                attempts=attempt,
                **context,
            )
        return result

    async def _attempt(
        self,
        operation: str,
        make_call: Callable[[], Awaitable[GatewayResult]],
        context: dict[str, Any],
    ) -> GatewayResult:
        async with self._bulkhead:
            if not self.breaker.allow():
                return GatewayResult("FAILED", retryable=True, detail=CIRCUIT_OPEN)
            in_flight = bound(IN_FLIGHT, self.name)
            in_flight.inc()
            started = time.perf_counter()
            try:
                result = await asyncio.wait_for(make_call(), self.config.timeout_s)
            except TimeoutError:
                record_error(
                    log,
                    gateway=self.name,
                    operation=operation,
                    kind=TIMEOUT,
                    detail=f"no answer within {self.config.timeout_s}s",
                    **context,
                )
                result = GatewayResult("FAILED", retryable=True, detail=TIMEOUT)
            except GatewayUnavailableError as exc:
                result = GatewayResult("FAILED", retryable=True, detail=str(exc))
            except GatewayError:
                self.breaker.record_success()  # the gateway answered; the request was wrong
                raise
            except asyncio.CancelledError:
                self.breaker.abandon()
                raise
            except Exception as exc:
                self.breaker.abandon()
                record_error(
                    log,
                    gateway=self.name,
                    operation=operation,
                    kind="unexpected",
                    detail=repr(exc),
                    level=logging.ERROR,
                    **context,
                )
                raise
            finally:
                in_flight.dec()
                bound(LATENCY, self.name, operation.lower()).observe(time.perf_counter() - started)
        if result.outcome == "FAILED" and result.retryable:
            self.breaker.record_failure()
        else:
            self.breaker.record_success()
        return result

    def _backoff(self, attempt: int) -> float:
        ceiling = min(self.config.backoff_max_s, self.config.backoff_base_s * 2 ** (attempt - 1))
        return self._rng.uniform(0, ceiling) if self.config.jitter else ceiling

    def _on_transition(self, state: BreakerState) -> None:
        BREAKER_STATE.labels(self.name).set(state.value)
        log.warning("gateway %s circuit breaker is now %s", self.name, state.name)
