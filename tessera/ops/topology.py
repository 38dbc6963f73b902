"""Which Tessera process consumes each topic, and which writes each table: the "pipeline"
column of a booking's journey. Built from the modules that declare their inputs; the
processes that take a literal topic list are named here (kept in step by tests/ops)."""

from __future__ import annotations

from schemas import topics as t
from sinks.postgres import bookings, inventory, payments, sagas

_SAGA_INPUTS = (t.BOOKING_COMMANDS, t.INVENTORY_EVENTS, t.PAYMENT_EVENTS, t.SAGA_TIMEOUTS)
_REDIS_INPUTS = (t.BOOKING_EVENTS, t.INVENTORY_SNAPSHOTS)


def _consumers() -> dict[str, tuple[str, ...]]:
    by_topic: dict[str, list[str]] = {}
    readers = [
        ("saga", _SAGA_INPUTS),
        ("inventory", (t.INVENTORY_COMMANDS,)),
        ("payment", (t.PAYMENT_COMMANDS,)),
        ("timers", (t.TIMERS,)),
        ("sink-postgres", bookings.INPUTS + inventory.INPUTS + payments.INPUTS + sagas.INPUTS),
        ("sink-redis", _REDIS_INPUTS),
        ("notifications", (t.NOTIFICATION_QUEUE, t.NOTIFICATION_RETRY)),
    ]
    for role, inputs in readers:
        for spec in inputs:
            if role not in by_topic.setdefault(spec.name, []):
                by_topic[spec.name].append(role)
    for spec in t.dead_letter_topics():
        by_topic[spec.name] = ["operator (replay)"]
    return {name: tuple(roles) for name, roles in by_topic.items()}


CONSUMERS = _consumers()
TABLE_WRITERS = {
    "bookings": "sink-postgres",
    "booking_history": "sink-postgres",
    "payments": "sink-postgres",
    "payment_transactions": "sink-postgres",
    "saga_instances": "sink-postgres",
    "saga_steps": "sink-postgres",
    "inventory_reservations": "sink-postgres",
    "notifications": "notifications",
}


def pipeline_of(topic: str) -> str:
    return ", ".join(CONSUMERS.get(topic, ("-",)))
