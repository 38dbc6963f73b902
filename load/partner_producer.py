"""Example partner producer: CreateBooking commands straight to booking-commands.

A partner codes against the exported JSON Schema (`tessera schemas export`) and shares
the HTTP ingress's dedupe key space: for each booking it picks an idempotency key, sets

    message_id = command_id(partner, key)      # uuid5, see schemas/command_ids.py
    booking_id = booking_id_for(message_id)    # uuid5 of the message id

and keys the record by booking_id. The same (partner, key) sent over HTTP (as that
partner, with that Idempotency-Key) yields the same booking_id, so it books once.

    uv run python -m load.partner_producer --count 1000 --rate 200 --partner partner-1
"""

from __future__ import annotations

import argparse
import json
import sys
import time
import uuid
from dataclasses import dataclass

from confluent_kafka import Producer

from schemas.booking_commands import CreateBooking
from schemas.codec import encode
from schemas.command_ids import booking_id_for, command_id
from schemas.topics import BOOKING_COMMANDS
from tessera.config import Settings, load_settings
from tessera.kafka_clients import PARTITIONER


@dataclass(frozen=True)
class Plan:
    count: int
    rate: float  # records per second; 0 = as fast as possible
    partner: str = "partner-example"
    users: int = 100
    item: str = "item-1"
    quantity: int = 1
    key_prefix: str = ""


def commands(plan: Plan) -> list[CreateBooking]:
    prefix = plan.key_prefix or uuid.uuid4().hex[:8]
    result = []
    for i in range(plan.count):
        message_id = command_id(plan.partner, f"{prefix}-{i}")
        result.append(
            CreateBooking(
                message_id=message_id,
                correlation_id=message_id,
                booking_id=booking_id_for(message_id),
                user_id=f"user-{i % plan.users}",
                item_id=plan.item,
                quantity=plan.quantity,
                payment_method="pm_card_visa",
                channel="PARTNER_KAFKA",
                requested_by=plan.partner,
            )
        )
    return result


def produce(settings: Settings, plan: Plan) -> dict[str, float]:
    """Send the plan's commands, paced at plan.rate, and wait until every one is acknowledged."""
    producer = Producer(
        {
            "bootstrap.servers": settings.kafka_bootstrap,
            # Java's partitioner, as Tessera's own producers use: same key, same partition.
            "partitioner": PARTITIONER,
            "enable.idempotence": True,
            "acks": "all",
            "linger.ms": 5,
            "client.id": f"partner-{plan.partner}",
        }
    )
    failures: list[str] = []

    def report(err: object, _msg: object) -> None:
        if err is not None:
            failures.append(str(err))

    topic = settings.topic(BOOKING_COMMANDS.name)
    started = time.monotonic()
    for i, command in enumerate(commands(plan)):
        if plan.rate > 0:
            delay = started + i / plan.rate - time.monotonic()
            if delay > 0:
                time.sleep(delay)
        while True:
            try:
                producer.produce(topic, encode(command), command.booking_id, on_delivery=report)
                break
            except BufferError:
                producer.poll(0.1)
        producer.poll(0)
    remaining = producer.flush(30)
    elapsed = time.monotonic() - started
    return {
        "sent": plan.count - len(failures) - remaining,
        "failed": len(failures) + remaining,
        "elapsed_s": round(elapsed, 3),
        "rate": round(plan.count / elapsed, 1) if elapsed else 0.0,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--count", type=int, default=100)
    parser.add_argument("--rate", type=float, default=100.0, help="records/s (0: unpaced)")
    parser.add_argument("--partner", default="partner-example")
    parser.add_argument("--users", type=int, default=100)
    parser.add_argument("--item", default="item-1")
    parser.add_argument("--quantity", type=int, default=1)
    parser.add_argument("--key-prefix", default="", help="idempotency-key prefix (default: random)")
    args = parser.parse_args(argv)
    plan = Plan(
        args.count, args.rate, args.partner, args.users, args.item, args.quantity, args.key_prefix
    )
    summary = produce(load_settings(), plan)
    print(json.dumps(summary))
    return 0 if summary["failed"] == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
