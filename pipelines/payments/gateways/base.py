"""The contract every payment gateway adapter follows.

Adapters are pure I/O edges: no Kafka, no state beyond connection pools. Money is always
integer minor units. Every money-moving call takes an idempotency key derived from the
booking and the step (`idempotency_key`), so a command redelivered after a crash reaches
the gateway with the key it used before and can never move money twice.
"""

from __future__ import annotations

import abc
from dataclasses import dataclass
from typing import Literal

Operation = Literal["AUTHORIZE", "CAPTURE", "VOID", "REFUND"]
Outcome = Literal["SUCCEEDED", "DECLINED", "FAILED"]
# Normalised across backends so reconciliation does not need to know which gateway it asks.
PaymentState = Literal[
    "PENDING", "AUTHORIZED", "CAPTURED", "VOIDED", "REFUNDED", "DECLINED", "NOT_FOUND"
]


@dataclass(frozen=True)
class GatewayResult:
    """What a gateway answered.

    SUCCEEDED: money moved (or was reserved) as asked.
    DECLINED: a business answer (card declined, insufficient funds); never retried.
    FAILED: the call did not complete; `retryable` says whether the same call, with the
    same idempotency key, may succeed later (timeouts, 5xx) or never will (bad request).
    """

    outcome: Outcome
    gateway_ref: str | None = None
    decline_code: str | None = None
    retryable: bool = False
    detail: str = ""

    @property
    def succeeded(self) -> bool:
        return self.outcome == "SUCCEEDED"


def idempotency_key(booking_id: str, operation: Operation, attempt_scope: str = "") -> str:
    """The gateway idempotency key of one booking step: the same inputs give the same key.

    `attempt_scope` separates deliberate repeats of one step (a second partial refund);
    leave it empty for anything that must happen at most once per booking.
    """
    if not booking_id:
        raise ValueError("booking_id is required for an idempotency key")
    key = f"tessera:{booking_id}:{operation}"
    return f"{key}:{attempt_scope}" if attempt_scope else key


class PaymentGateway(abc.ABC):
    """A two-phase card gateway: authorize, then capture or void; refund after capture."""

    name: str = "gateway"

    @abc.abstractmethod
    async def authorize(
        self,
        *,
        booking_id: str,
        amount_minor: int,
        currency: str,
        payment_method: str,
        idempotency_key: str,
    ) -> GatewayResult:
        """Reserve funds; on success `gateway_ref` is the payment (intent) id."""

    @abc.abstractmethod
    async def capture(
        self, *, gateway_ref: str, amount_minor: int, idempotency_key: str
    ) -> GatewayResult:
        """Charge at most the authorized amount; the rest of the hold is released."""

    @abc.abstractmethod
    async def void(self, *, gateway_ref: str, idempotency_key: str) -> GatewayResult:
        """Release an authorization that was never captured."""

    @abc.abstractmethod
    async def refund(
        self, *, gateway_ref: str, amount_minor: int, idempotency_key: str
    ) -> GatewayResult:
        """Return captured money, in full or in part."""

    @abc.abstractmethod
    async def status(self, *, gateway_ref: str) -> PaymentState:
        """The payment's state; raises `GatewayUnavailableError` when it cannot be read."""

    @abc.abstractmethod
    async def close(self) -> None:
        """Release connections. The gateway is unusable afterwards."""

    async def __aenter__(self) -> PaymentGateway:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.close()
