"""payment database: payments (one per booking) + payment_transactions (one per gateway call),
from payment-commands (AuthorizePayment: the AUTHORIZING row and its amount) and
payment-events.

Payment events carry no version, so the version is derived from the event: the stage of
the money (AUTHORIZING < AUTHORIZED/DECLINED/FAILED < CAPTURED/VOIDED < REFUNDED) in the
high bits, the event time as tie-break. payment_id, amount and captured_count are merged
monotonically (first known value; captured once stays captured), whatever the order.
A transaction's id is the causation id: the payment command's message id, so a
redelivered event is the same row.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from schemas.payment_commands import AuthorizePayment
from schemas.payment_events import (
    PaymentAuthorized,
    PaymentCaptured,
    PaymentDeclined,
    PaymentFailed,
    PaymentRefunded,
    PaymentVoided,
)
from schemas.topics import PAYMENT_COMMANDS, PAYMENT_EVENTS, TopicSpec

from ..base.records import SourceRecord
from .projection import Projection, Row, Values, nullable, ts

SERVICE = "payment"
INPUTS: tuple[TopicSpec, ...] = (PAYMENT_COMMANDS, PAYMENT_EVENTS)
_RANK_SHIFT = 42  # epoch ms < 2**42 until the year 2109

_PAYMENT_COLUMNS = (
    "booking_id",
    "payment_id",
    "amount_minor",
    "currency",
    "status",
    "captured_count",
    "version",
    "updated_at",
)
_PID, _AMOUNT, _CURRENCY, _STATUS, _CAPTURED, _VERSION, _UPDATED = range(1, 8)


def _merge_payment(old: Values, new: Values) -> Values:
    """The in-memory twin of PAYMENTS.on_conflict (old = t, new = EXCLUDED)."""
    newer = new[_VERSION] > old[_VERSION]
    return (
        old[0],
        old[_PID] if old[_PID] is not None else new[_PID],
        old[_AMOUNT] if old[_AMOUNT] is not None else new[_AMOUNT],
        old[_CURRENCY] if old[_CURRENCY] is not None else new[_CURRENCY],
        new[_STATUS] if newer else old[_STATUS],
        max(old[_CAPTURED], new[_CAPTURED]),
        max(old[_VERSION], new[_VERSION]),
        new[_UPDATED] if newer else old[_UPDATED],
    )


PAYMENTS = Projection(
    name="payments",
    table="payments",
    columns=_PAYMENT_COLUMNS,
    key=("booking_id",),
    merge=_merge_payment,
    on_conflict=(
        "DO UPDATE SET"
        " status = CASE WHEN t.version < EXCLUDED.version THEN EXCLUDED.status ELSE t.status END,"
        " updated_at = CASE WHEN t.version < EXCLUDED.version"
        " THEN EXCLUDED.updated_at ELSE t.updated_at END,"
        " version = GREATEST(t.version, EXCLUDED.version),"
        " payment_id = COALESCE(t.payment_id, EXCLUDED.payment_id),"
        " amount_minor = COALESCE(t.amount_minor, EXCLUDED.amount_minor),"
        " currency = COALESCE(t.currency, EXCLUDED.currency),"
        " captured_count = GREATEST(t.captured_count, EXCLUDED.captured_count)"
        " WHERE t.version < EXCLUDED.version"
        " OR (t.payment_id IS NULL AND EXCLUDED.payment_id IS NOT NULL)"
        " OR (t.amount_minor IS NULL AND EXCLUDED.amount_minor IS NOT NULL)"
        " OR t.captured_count < EXCLUDED.captured_count"
    ),
)
TRANSACTIONS = Projection(
    name="payment_transactions",
    table="payment_transactions",
    columns=(
        "transaction_id",
        "booking_id",
        "operation",
        "outcome",
        "amount_minor",
        "currency",
        "gateway_ref",
        "occurred_at",
    ),
    key=("transaction_id",),
    on_conflict="DO NOTHING",
    version=None,
    # Any unique constraint: a second SUCCEEDED capture of a booking is refused by
    # payment_transactions_one_capture_idx and dead-lettered, never silently merged.
    conflict_target="",
)
PROJECTIONS = (PAYMENTS, TRANSACTIONS)
# event type -> (payments status or None, rank, operation, outcome, captured)
_EVENTS: dict[type, tuple[str | None, int, str, str, int]] = {
    PaymentAuthorized: ("AUTHORIZED", 1, "AUTHORIZE", "SUCCEEDED", 0),
    PaymentDeclined: ("DECLINED", 1, "AUTHORIZE", "DECLINED", 0),
    PaymentCaptured: ("CAPTURED", 2, "CAPTURE", "SUCCEEDED", 1),
    PaymentVoided: ("VOIDED", 2, "VOID", "SUCCEEDED", 0),
    PaymentRefunded: ("REFUNDED", 3, "REFUND", "SUCCEEDED", 1),
}


def _version(rank: int, occurred_at: int) -> int:
    return (rank << _RANK_SHIFT) | occurred_at


def project(spec: TopicSpec, message: Any, source: SourceRecord) -> Iterator[Row]:
    if isinstance(message, AuthorizePayment):
        amount = message.amount
        values = (
            message.booking_id,
            None,
            amount.amount_minor,
            amount.currency,
            "AUTHORIZING",
            0,
            _version(0, message.occurred_at),
            ts(message.occurred_at),
        )
        yield (PAYMENTS, values, source)
        return
    if isinstance(message, PaymentFailed):
        # A failed authorization is the payment's state; a failed capture/void/refund
        # leaves the money where it was and is only a transaction.
        failed_auth = message.operation == "AUTHORIZE"
        status, rank, operation, outcome, captured = (
            "FAILED" if failed_auth else None,
            1,
            message.operation,
            "FAILED",
            0,
        )
    elif type(message) in _EVENTS:
        status, rank, operation, outcome, captured = _EVENTS[type(message)]
    else:
        return
    payment_id = nullable(getattr(message, "payment_id", ""))
    amount = getattr(message, "amount", None)
    # A refund's amount is what was refunded, not the payment's amount.
    payment_amount = None if amount is None or rank == 3 else amount
    occurred_at = ts(message.occurred_at)
    if status is not None:
        values = (
            message.booking_id,
            payment_id,
            None if payment_amount is None else payment_amount.amount_minor,
            None if payment_amount is None else payment_amount.currency,
            status,
            captured,
            _version(rank, message.occurred_at),
            occurred_at,
        )
        yield (PAYMENTS, values, source)
    transaction = (
        message.causation_id or message.message_id,
        message.booking_id,
        operation,
        outcome,
        None if amount is None else amount.amount_minor,
        None if amount is None else amount.currency,
        payment_id,
        occurred_at,
    )
    yield (TRANSACTIONS, transaction, source)
