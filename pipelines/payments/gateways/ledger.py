"""The simulated gateway's books: payments, their states, and idempotent replay.

Pure and synchronous, so every rule is testable without an event loop. The rules follow
Stripe's: a capture at most once and never above the authorization, no capture after a
void, refunds only of captured money, and a reused idempotency key replays the first
answer without a new side effect (or is refused if the parameters differ).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from .base import GatewayResult, PaymentState


@dataclass
class Payment:
    ref: str
    booking_id: str
    currency: str
    authorized_minor: int
    state: PaymentState = "AUTHORIZED"
    captured_minor: int = 0
    refunded_minor: int = 0


def _refused(reason: str) -> GatewayResult:
    return GatewayResult("FAILED", retryable=False, detail=reason)


@dataclass
class PaymentLedger:
    payments: dict[str, Payment] = field(default_factory=dict)
    # booking_id -> side effects that actually happened (replays do not count)
    effects: dict[str, Counter[str]] = field(default_factory=dict)
    _replies: dict[str, tuple[tuple[Any, ...], GatewayResult]] = field(default_factory=dict)

    def has_reply(self, key: str) -> bool:
        return key in self._replies

    def execute(
        self, key: str, fingerprint: tuple[Any, ...], apply: Callable[[], GatewayResult]
    ) -> GatewayResult:
        """Run `apply` once per idempotency key; later calls with the key get its answer."""
        if not key:
            return _refused("invalid_request: idempotency key required")
        if key in self._replies:
            first, reply = self._replies[key]
            if first != fingerprint:
                return _refused("idempotency_key_reused: different parameters")
            return reply
        reply = apply()
        self._replies[key] = (fingerprint, reply)
        return reply

    def authorize(
        self, ref: str, booking_id: str, amount_minor: int, currency: str
    ) -> GatewayResult:
        if amount_minor <= 0:
            return _refused("invalid_request: amount must be positive")
        self.payments[ref] = Payment(ref, booking_id, currency, amount_minor)
        self._count(booking_id, "authorizations")
        return GatewayResult("SUCCEEDED", gateway_ref=ref)

    def decline(
        self, ref: str, booking_id: str, amount_minor: int, currency: str, code: str
    ) -> GatewayResult:
        self.payments[ref] = Payment(ref, booking_id, currency, amount_minor, state="DECLINED")
        self._count(booking_id, "declines")
        return GatewayResult("DECLINED", gateway_ref=ref, decline_code=code, detail="card declined")

    def capture(self, ref: str, amount_minor: int) -> GatewayResult:
        payment = self.payments.get(ref)
        if payment is None:
            return _refused(f"resource_missing: no such payment {ref}")
        if payment.state != "AUTHORIZED":
            reason = "already_captured" if payment.captured_minor else "unexpected_state"
            return _refused(f"{reason}: payment is {payment.state}")
        if not 0 < amount_minor <= payment.authorized_minor:
            return _refused(f"amount_too_large: {amount_minor} > {payment.authorized_minor}")
        payment.captured_minor, payment.state = amount_minor, "CAPTURED"
        self._count(payment.booking_id, "captures")
        return GatewayResult("SUCCEEDED", gateway_ref=ref)

    def void(self, ref: str) -> GatewayResult:
        payment = self.payments.get(ref)
        if payment is None:
            return _refused(f"resource_missing: no such payment {ref}")
        if payment.state != "AUTHORIZED":
            return _refused(f"unexpected_state: payment is {payment.state}")
        payment.state = "VOIDED"
        self._count(payment.booking_id, "voids")
        return GatewayResult("SUCCEEDED", gateway_ref=ref)

    def refund(self, ref: str, amount_minor: int) -> GatewayResult:
        payment = self.payments.get(ref)
        if payment is None:
            return _refused(f"resource_missing: no such payment {ref}")
        if payment.state != "CAPTURED":
            return _refused(f"unexpected_state: payment is {payment.state}")
        refundable = payment.captured_minor - payment.refunded_minor
        if not 0 < amount_minor <= refundable:
            return _refused(f"amount_too_large: {amount_minor} > {refundable} refundable")
        payment.refunded_minor += amount_minor
        if payment.refunded_minor == payment.captured_minor:
            payment.state = "REFUNDED"
        self._count(payment.booking_id, "refunds")
        return GatewayResult("SUCCEEDED", gateway_ref=ref)

    def state(self, ref: str) -> PaymentState:
        payment = self.payments.get(ref)
        return payment.state if payment else "NOT_FOUND"

    def audit(self) -> dict[str, dict[str, Any]]:
        """Per booking: side-effect counts, and every payment's state and amounts."""
        report: dict[str, dict[str, Any]] = {}
        for booking_id, counts in self.effects.items():
            report[booking_id] = {
                name: counts[name]
                for name in ("authorizations", "declines", "captures", "voids", "refunds")
            } | {"payments": {}}
        for payment in self.payments.values():
            report[payment.booking_id]["payments"][payment.ref] = {
                "state": payment.state,
                "currency": payment.currency,
                "authorized_minor": payment.authorized_minor,
                "captured_minor": payment.captured_minor,
                "refunded_minor": payment.refunded_minor,
            }
        return report

    def _count(self, booking_id: str, effect: str) -> None:
        self.effects.setdefault(booking_id, Counter())[effect] += 1
