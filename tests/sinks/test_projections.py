"""Pure checks of the PostgreSQL projections: the in-memory reduce keeps what the SQL merge
keeps, timestamps are exact, merges are order-independent."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta

from schemas.base import Money
from schemas.payment_commands import AuthorizePayment
from schemas.payment_events import PaymentAuthorized, PaymentCaptured, PaymentDeclined
from schemas.saga_events import SagaStepChanged
from schemas.topics import PAYMENT_EVENTS, SAGA_EVENTS
from sinks.base.records import SourceRecord
from sinks.postgres import payments, sagas
from sinks.postgres.projection import reduce_rows, ts

SOURCE = SourceRecord("t", 0, 0, "k", b"")


def test_ts_is_exact_to_the_millisecond() -> None:
    epoch = datetime(1970, 1, 1, tzinfo=UTC)
    for ms in (0, 1, 999, 1_767_225_600_123, 4_398_046_511_103):
        assert ts(ms) == epoch + timedelta(milliseconds=ms)


def test_payment_merge_is_the_same_in_any_order() -> None:
    auth = AuthorizePayment(
        booking_id="b",
        amount=Money(500, "EUR"),
        payment_method="pm",
        idempotency_key="k",
        occurred_at=10,
    )
    events = [
        auth,
        PaymentDeclined(booking_id="b", decline_code="x", causation_id="c0", occurred_at=11),
        PaymentAuthorized(
            booking_id="b",
            payment_id="pi",
            amount=Money(500, "EUR"),
            causation_id="c1",
            occurred_at=12,
        ),
        PaymentCaptured(
            booking_id="b",
            payment_id="pi",
            amount=Money(500, "EUR"),
            causation_id="c2",
            occurred_at=13,
        ),
    ]
    results = set()
    for order in itertools.permutations(events):
        rows = [r for e in order for r in payments.project(PAYMENT_EVENTS, e, SOURCE)]
        (row,) = reduce_rows(rows)[payments.PAYMENTS]
        results.add(row[1])
    assert len(results) == 1
    (values,) = results
    assert values[1:6] == ("pi", 500, "EUR", "CAPTURED", 1)


def test_saga_state_follows_its_version_and_dates_merge_commutatively() -> None:
    def step(version: int, state: str, at: int) -> SagaStepChanged:
        return SagaStepChanged(
            booking_id="b",
            saga_state=state,
            step="S",
            action="ACTION",
            status="STARTED",
            attempt=1,
            version=version,
            occurred_at=at,
        )

    newest = [step(1, "RESERVING", 100), step(3, "CONFIRMING", 90), step(2, "AUTHORIZING", 120)]
    for order in itertools.permutations(newest):
        rows = [r for e in order for r in sagas.project(SAGA_EVENTS, e, SOURCE)]
        (row,) = reduce_rows(rows)[sagas.SAGA_STATE]
        assert row[1] == ("b", "CONFIRMING", 3, ts(90), ts(120))
