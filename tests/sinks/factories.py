"""Synthetic, internally consistent event streams for the sink tests (seeded, reproducible)."""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from typing import Any

from schemas.base import BookingStatus, Money
from schemas.booking_events import (
    BookingCancelled,
    BookingChange,
    BookingCompleted,
    BookingConfirmed,
    BookingCreated,
    BookingFailed,
)
from schemas.inventory_events import ItemSnapshot, ReservationView
from schemas.payment_commands import AuthorizePayment, CapturePayment
from schemas.payment_events import (
    PaymentAuthorized,
    PaymentCaptured,
    PaymentDeclined,
    PaymentFailed,
    PaymentVoided,
)
from schemas.saga_events import SagaStepChanged

T0 = 1_767_225_600_000  # 2026-01-01T00:00:00Z


def booking_event(
    kind: type[BookingChange], booking_id: str, version: int, status: BookingStatus, **kw: Any
) -> BookingChange:
    fields: dict[str, Any] = {
        "booking_id": booking_id,
        "user_id": kw.pop("user_id", "user-1"),
        "item_id": kw.pop("item_id", "item-1"),
        "quantity": kw.pop("quantity", 1),
        "status": status,
        "version": version,
        "created_at": kw.pop("created_at", T0),
        "occurred_at": kw.pop("occurred_at", T0 + version),
        "correlation_id": booking_id,
    }
    return kind(**fields, **kw)


@dataclass
class Journeys:
    """Events of `bookings` bookings over `items` items, per topic, in production order."""

    booking_events: list[Any] = field(default_factory=list)
    saga_events: list[Any] = field(default_factory=list)
    snapshots: list[Any] = field(default_factory=list)
    payment_commands: list[Any] = field(default_factory=list)
    payment_events: list[Any] = field(default_factory=list)

    def all(self) -> list[Any]:
        return (
            self.booking_events
            + self.saga_events
            + self.snapshots
            + self.payment_commands
            + self.payment_events
        )


class _Journey:
    """One booking's events, appended to `out` as the saga would produce them."""

    def __init__(
        self,
        out: Journeys,
        clock: list[int],
        booking_id: str,
        item_id: str,
        ledger: list[int],
        quantity: int,
    ) -> None:
        self.out, self.clock, self.booking_id = out, clock, booking_id
        self.item_id, self.ledger, self.quantity = item_id, ledger, quantity
        self.created = self.tick(10)
        self.step = 0

    def tick(self, by: int = 1) -> int:
        self.clock[0] += by
        return self.clock[0]

    def saga(self, name: str, status: str, state: str, action: str = "ACTION") -> None:
        self.step += 1
        self.out.saga_events.append(
            SagaStepChanged(
                booking_id=self.booking_id,
                saga_state=state,
                step=name,
                action=action,  # type: ignore[arg-type]
                status=status,  # type: ignore[arg-type]
                attempt=0 if status == "SKIPPED" else 1,
                version=self.step,
                occurred_at=self.tick(),
            )
        )

    def snapshot(self, status: str, held: int, sold: int) -> None:
        ledger = self.ledger
        ledger[1] += held
        ledger[2] += sold
        ledger[3] += 1
        self.out.snapshots.append(
            ItemSnapshot(
                item_id=self.item_id,
                capacity=ledger[0],
                held=ledger[1],
                sold=ledger[2],
                price=Money(1500, "EUR"),
                version=ledger[3],
                occurred_at=self.tick(),
                changed=ReservationView(
                    self.booking_id, self.quantity, status, self.created + 600_000
                ),
            )
        )


def journeys(bookings: int, items: int = 20, seed: int = 7, prefix: str = "b") -> Journeys:
    rng = random.Random(seed)
    out = Journeys()
    ledgers = {f"item-{i}": [1000, 0, 0, 0] for i in range(items)}  # capacity, held, sold, ver
    clock = [T0]
    for n in range(bookings):
        item_id = f"item-{rng.randrange(items)}"
        quantity = rng.randint(1, 3)
        j = _Journey(out, clock, f"{prefix}-{n:06d}", item_id, ledgers[item_id], quantity)
        booking_id = j.booking_id
        price = Money(1500 * quantity, "EUR")
        common = {
            "user_id": f"user-{rng.randrange(50)}",
            "item_id": item_id,
            "quantity": quantity,
            "created_at": j.created,
        }
        out.booking_events.append(
            booking_event(
                BookingCreated,
                booking_id,
                1,
                BookingStatus.PENDING,
                occurred_at=j.created,
                **common,
            )
        )
        j.saga("RESERVE_INVENTORY", "STARTED", "RESERVING")
        j.snapshot("HELD", quantity, 0)
        j.saga("RESERVE_INVENTORY", "SUCCEEDED", "AUTHORIZING")
        auth = AuthorizePayment(
            booking_id=booking_id,
            amount=price,
            payment_method="pm_card",
            idempotency_key=f"tessera:{booking_id}:AUTHORIZE",
            occurred_at=j.tick(),
        )
        out.payment_commands.append(auth)
        outcome = rng.random()
        if outcome < 0.15:  # declined: release, fail
            out.payment_events.append(
                PaymentDeclined(
                    booking_id=booking_id,
                    decline_code="card_declined",
                    causation_id=auth.message_id,
                    occurred_at=j.tick(3),
                )
            )
            j.snapshot("RELEASED", -quantity, 0)
            j.saga("RELEASE_INVENTORY", "SUCCEEDED", "FAILED", "COMPENSATION")
            out.booking_events.append(
                booking_event(
                    BookingFailed,
                    booking_id,
                    2,
                    BookingStatus.FAILED,
                    occurred_at=j.tick(),
                    reason="PAYMENT_DECLINED",
                    amount=price,
                    **common,
                )
            )
            continue
        if outcome < 0.2:  # gateway failure, then a void with the replayed authorization
            out.payment_events.append(
                PaymentFailed(
                    booking_id=booking_id,
                    operation="AUTHORIZE",
                    detail="timeout",
                    causation_id=auth.message_id,
                    occurred_at=j.tick(3),
                )
            )
            out.payment_events.append(
                PaymentVoided(
                    booking_id=booking_id,
                    payment_id=f"pi_{booking_id}",
                    causation_id=f"void-{booking_id}",
                    occurred_at=j.tick(2),
                )
            )
            j.snapshot("RELEASED", -quantity, 0)
            out.booking_events.append(
                booking_event(
                    BookingCancelled,
                    booking_id,
                    2,
                    BookingStatus.CANCELLED,
                    occurred_at=j.tick(),
                    reason="PAYMENT_FAILED",
                    amount=price,
                    **common,
                )
            )
            continue
        payment_id = f"pi_{booking_id}"
        out.payment_events.append(
            PaymentAuthorized(
                booking_id=booking_id,
                payment_id=payment_id,
                amount=price,
                causation_id=auth.message_id,
                occurred_at=j.tick(3),
            )
        )
        j.saga("AUTHORIZE_PAYMENT", "SUCCEEDED", "CONFIRMING")
        j.snapshot("CONFIRMED", -quantity, quantity)
        out.booking_events.append(
            booking_event(
                BookingConfirmed,
                booking_id,
                2,
                BookingStatus.CONFIRMED,
                occurred_at=j.tick(),
                amount=price,
                payment_id=payment_id,
                **common,
            )
        )
        capture = CapturePayment(
            booking_id=booking_id,
            payment_id=payment_id,
            amount=price,
            idempotency_key=f"tessera:{booking_id}:CAPTURE",
            occurred_at=j.tick(),
        )
        out.payment_commands.append(capture)
        out.payment_events.append(
            PaymentCaptured(
                booking_id=booking_id,
                payment_id=payment_id,
                amount=price,
                causation_id=capture.message_id,
                occurred_at=j.tick(3),
            )
        )
        j.saga("CAPTURE_PAYMENT", "SUCCEEDED", "COMPLETED")
        j.saga("NOTIFY", "SKIPPED", "COMPLETED")
        out.booking_events.append(
            booking_event(
                BookingCompleted,
                booking_id,
                3,
                BookingStatus.COMPLETED,
                occurred_at=j.tick(),
                amount=price,
                payment_id=payment_id,
                **common,
            )
        )
    return out
