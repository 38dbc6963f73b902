"""Test doubles: a scripted gateway that records every call it receives."""

from __future__ import annotations

import asyncio
from collections.abc import Iterable
from dataclasses import dataclass, field

from pipelines.payments.gateways.base import GatewayResult, PaymentGateway, PaymentState

OK = GatewayResult("SUCCEEDED", gateway_ref="pi_1")
TRANSIENT = GatewayResult("FAILED", retryable=True, detail="HTTP 503")
REFUSED = GatewayResult("FAILED", retryable=False, detail="invalid_request")
DECLINED = GatewayResult("DECLINED", decline_code="card_declined")


@dataclass
class Call:
    operation: str
    idempotency_key: str | None


@dataclass
class ScriptedGateway(PaymentGateway):
    """Answers from `script` in order (the last answer repeats), after `delay_s`."""

    script: list[GatewayResult | BaseException] = field(default_factory=lambda: [OK])
    delay_s: float = 0.0
    calls: list[Call] = field(default_factory=list)
    in_flight: int = 0
    max_in_flight: int = 0
    closed: bool = False
    name: str = "scripted"

    def then(self, answers: Iterable[GatewayResult | BaseException]) -> ScriptedGateway:
        self.script = list(answers)
        return self

    async def _answer(self, operation: str, key: str | None) -> GatewayResult:
        self.calls.append(Call(operation, key))
        self.in_flight += 1
        self.max_in_flight = max(self.max_in_flight, self.in_flight)
        try:
            if self.delay_s:
                await asyncio.sleep(self.delay_s)
            answer = self.script.pop(0) if len(self.script) > 1 else self.script[0]
            if isinstance(answer, BaseException):
                raise answer
            return answer
        finally:
            self.in_flight -= 1

    async def authorize(
        self, *, booking_id, amount_minor, currency, payment_method, idempotency_key
    ):
        return await self._answer("AUTHORIZE", idempotency_key)

    async def capture(self, *, gateway_ref, amount_minor, idempotency_key):
        return await self._answer("CAPTURE", idempotency_key)

    async def void(self, *, gateway_ref, idempotency_key):
        return await self._answer("VOID", idempotency_key)

    async def refund(self, *, gateway_ref, amount_minor, idempotency_key):
        return await self._answer("REFUND", idempotency_key)

    async def status(self, *, gateway_ref) -> PaymentState:
        result = await self._answer("STATUS", None)
        return "AUTHORIZED" if result.succeeded else "PENDING"

    async def close(self) -> None:
        self.closed = True


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds
