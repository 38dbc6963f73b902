"""A simulated card gateway behind the payment worker, for the saga's world tests.

Idempotency keys replay their first result, as Stripe's do. A call's fate decides whether
it reached the gateway and whether its answer came back:
  ok        executed, answered
  declined  (authorize, capture) refused, answered
  lost      executed, but the worker reports PaymentFailed (timeout after the fact)
  unreached never executed, PaymentFailed
Violations of the money invariants are collected instead of raised, so the test reports them.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Literal

from schemas.base import Envelope, Money, caused_by
from schemas.payment_commands import (
    AuthorizePayment,
    CapturePayment,
    PaymentCommand,
    RefundPayment,
    VoidPayment,
)
from schemas.payment_events import (
    PaymentAuthorized,
    PaymentCaptured,
    PaymentDeclined,
    PaymentFailed,
    PaymentRefunded,
    PaymentVoided,
)

Fate = Literal["ok", "declined", "lost", "unreached"]
AuthState = Literal["AUTHORIZED", "VOIDED", "CAPTURED", "REFUNDED"]


@dataclass
class Gateway:
    auths: dict[str, AuthState] = field(default_factory=dict)  # payment id → state
    by_authorize_key: dict[str, str | None] = field(default_factory=dict)  # None: declined
    executed: set[str] = field(default_factory=set)  # idempotency keys that took effect
    captures: Counter[str] = field(default_factory=Counter)  # booking → captures executed
    violations: list[str] = field(default_factory=list)

    def handle(self, command: PaymentCommand, fate: Fate) -> Envelope:
        operation = type(command).__name__.removesuffix("Payment").upper()
        if fate == "unreached":
            return self._failed(command, operation, "http 503")
        match command:
            case AuthorizePayment():
                reply = self._authorize(command, declined=fate == "declined")
            case CapturePayment():
                reply = self._capture(command, declined=fate == "declined")
            case VoidPayment():
                reply = self._void(command)
            case RefundPayment():
                reply = self._refund(command)
        if fate == "lost" and not isinstance(reply, PaymentFailed):
            return self._failed(command, operation, "timeout waiting for the gateway")
        return reply

    def _authorize(self, command: AuthorizePayment, declined: bool) -> Envelope:
        key = command.idempotency_key
        if key not in self.by_authorize_key:
            payment_id = None if declined else f"pi_{command.booking_id}"
            self.by_authorize_key[key] = payment_id
            if payment_id is not None:
                self.auths[payment_id] = "AUTHORIZED"
        payment_id = self.by_authorize_key[key]
        if payment_id is None:
            return PaymentDeclined(
                **caused_by(command), booking_id=command.booking_id, decline_code="card_declined"
            )
        return PaymentAuthorized(
            **caused_by(command),
            booking_id=command.booking_id,
            payment_id=payment_id,
            amount=command.amount,
        )

    def _capture(self, command: CapturePayment, declined: bool) -> Envelope:
        state = self.auths.get(command.payment_id)
        if command.idempotency_key not in self.executed and declined:
            return PaymentDeclined(
                **caused_by(command), booking_id=command.booking_id, decline_code="expired_auth"
            )
        if command.idempotency_key not in self.executed:
            if state != "AUTHORIZED":
                self.violations.append(f"capture of {command.payment_id} in state {state}")
                return self._failed(command, "CAPTURE", "not capturable")
            self.executed.add(command.idempotency_key)
            self.auths[command.payment_id] = "CAPTURED"
            self.captures[command.booking_id] += 1
        return PaymentCaptured(
            **caused_by(command),
            booking_id=command.booking_id,
            payment_id=command.payment_id,
            amount=command.amount,
        )

    def _void(self, command: VoidPayment) -> Envelope:
        payment_id = command.payment_id
        if not payment_id:
            # The worker replays the authorization by its key to learn the payment.
            if command.authorize_idempotency_key not in self.by_authorize_key:
                replay = AuthorizePayment(
                    booking_id=command.booking_id,
                    amount=command.amount or self._no_amount(command),
                    payment_method=command.payment_method,
                    idempotency_key=command.authorize_idempotency_key,
                )
                self._authorize(replay, declined=False)
            payment_id = self.by_authorize_key[command.authorize_idempotency_key] or ""
        state = self.auths.get(payment_id)
        ids = caused_by(command)
        if state == "CAPTURED":  # captured though every reply said failed: give it back
            self.auths[payment_id] = "REFUNDED"
        elif state == "AUTHORIZED":
            self.auths[payment_id] = "VOIDED"
        if self.auths.get(payment_id) == "REFUNDED":
            amount = command.amount or self._no_amount(command)
            return PaymentRefunded(
                **ids, booking_id=command.booking_id, payment_id=payment_id, amount=amount
            )
        return PaymentVoided(**ids, booking_id=command.booking_id, payment_id=payment_id)

    def _refund(self, command: RefundPayment) -> Envelope:
        state = self.auths.get(command.payment_id)
        if state == "CAPTURED":
            self.auths[command.payment_id] = "REFUNDED"
        elif state != "REFUNDED":
            self.violations.append(f"refund of {command.payment_id} in state {state}")
            return self._failed(command, "REFUND", "nothing captured")
        return PaymentRefunded(
            **caused_by(command),
            booking_id=command.booking_id,
            payment_id=command.payment_id,
            amount=command.amount,
        )

    def _failed(self, command: PaymentCommand, operation: str, detail: str) -> Envelope:
        return PaymentFailed(
            **caused_by(command), booking_id=command.booking_id, operation=operation, detail=detail
        )

    def _no_amount(self, command: VoidPayment) -> Money:
        self.violations.append(f"void without amount for {command.booking_id}")
        return Money(0)
