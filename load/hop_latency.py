"""Where a booking's time goes between POST and CONFIRMED, hop by hop.

Every message carries `occurred_at`: the clock of the step that emitted it (the record's
CreateTime will not do: quixstreams gives outputs their input's timestamp). The gap
between one record of a booking and the next one in the chain is the previous hop's
commit wait and commit, the next consumer's fetch, and the step itself.

    CreateBooking -> ReserveInventory -> InventoryReserved -> AuthorizePayment
                  -> PaymentAuthorized -> BookingConfirmed
"""

from __future__ import annotations

import statistics
import time
from collections import defaultdict
from typing import Any

from confluent_kafka import Consumer

from schemas.topics import (
    BOOKING_COMMANDS,
    BOOKING_EVENTS,
    INVENTORY_COMMANDS,
    INVENTORY_EVENTS,
    PAYMENT_COMMANDS,
    PAYMENT_EVENTS,
)
from tessera.config import Settings

CHAIN = (
    "CreateBooking",
    "ReserveInventory",
    "InventoryReserved",
    "AuthorizePayment",
    "PaymentAuthorized",
    "BookingConfirmed",
)
_TOPICS = (
    BOOKING_COMMANDS,
    INVENTORY_COMMANDS,
    INVENTORY_EVENTS,
    PAYMENT_COMMANDS,
    PAYMENT_EVENTS,
    BOOKING_EVENTS,
)


def record_times(settings: Settings, bookings: set[str], idle_s: float = 2.0) -> dict:
    """(booking id -> message type -> first occurred_at in ms), read from the run's topics."""
    decoders = {settings.topic(spec.name): spec.decoder for spec in _TOPICS}
    consumer = Consumer(
        {
            "bootstrap.servers": settings.kafka_bootstrap,
            "group.id": f"{settings.topic_prefix}hops-{time.time_ns()}",
            "auto.offset.reset": "earliest",
            "isolation.level": "read_committed",
            "enable.auto.commit": False,
        }
    )
    consumer.subscribe(list(decoders))
    times: dict[str, dict[str, int]] = defaultdict(dict)
    last_message = time.monotonic()
    try:
        while time.monotonic() - last_message < idle_s:
            for message in consumer.consume(1000, 0.2):
                if message.error() is not None:
                    continue
                last_message = time.monotonic()
                decoder: Any = decoders[message.topic()]
                event = decoder.decode(message.value())
                booking_id = getattr(event, "booking_id", "")
                if booking_id in bookings:
                    times[booking_id].setdefault(type(event).__name__, event.occurred_at)
    finally:
        consumer.close()
    return times


def hop_percentiles(times: dict[str, dict[str, int]]) -> dict[str, dict[str, float]]:
    """p50/p99 of each hop's gap in ms, over the bookings that went the whole chain."""
    gaps: dict[str, list[int]] = defaultdict(list)
    for steps in times.values():
        if not all(name in steps for name in CHAIN):
            continue
        for before, after in zip(CHAIN, CHAIN[1:], strict=False):
            gaps[f"{before} -> {after}"].append(steps[after] - steps[before])
    result = {}
    for hop, values in gaps.items():
        ordered = sorted(values)
        result[hop] = {
            "p50_ms": statistics.median(ordered),
            "p99_ms": ordered[min(len(ordered) - 1, int(0.99 * len(ordered)))],
        }
    return result
