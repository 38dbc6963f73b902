"""Partner load: CreateBooking straight to booking-commands at a set rate, open loop.

    uv run python -m load.partner_load --rate 300 --seconds 30 --items 100
    uv run python -m load.partner_load --rate 500 --seconds 10 --flash 200 --watch

Against the running stack (`make up`; TESSERA_TOPIC_PREFIX selects another deployment's
topics). Each record is what a partner builds from the exported JSON Schema
(load/partner_producer.py shows the id rules): message_id = command_id(partner, key),
booking_id = booking_id_for(message_id), keyed by booking_id, acks=all, idempotent, on the
murmur2 partitioner Tessera's own producers use. The items are created first
(SetCapacity: --items items with ample capacity, or with --flash N one hot item with N
seats). With --watch it follows booking-events and reports produce -> CONFIRMED and
-> terminal latency and the outcomes; without, only what the broker acknowledged.
Prints one JSON object.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import time
import uuid
from typing import Any

import uvloop

from load.bench_targets import Recorder, TesseraKafka, booking_body
from load.loadgen import open_loop
from load.system_harness import Watcher, producer_for, send, wait_until
from schemas.base import Money
from schemas.inventory_commands import SetCapacity
from tessera.config import Settings, load_settings


def _dist(values: list[float]) -> dict[str, float | int | None]:
    if not values:
        return {"n": 0}
    ordered = sorted(values)

    def q(p: float) -> float:
        return round(ordered[min(len(ordered) - 1, int(p * len(ordered)))], 1)

    return {"n": len(ordered), "p50": q(0.5), "p95": q(0.95), "p99": q(0.99), "max": q(1.0)}


def create_items(settings: Settings, items: dict[str, int], watcher: Watcher | None) -> None:
    producer = producer_for(settings)
    send(settings, producer, [SetCapacity(item_id=i, capacity=c, price=Money(2500))
                              for i, c in items.items()])  # fmt: skip
    if watcher is not None:
        wait_until(lambda: all(i in watcher.items for i in items), 60, "items in the inventory")


async def run(args: argparse.Namespace, settings: Settings) -> dict[str, Any]:
    run_id = uuid.uuid4().hex[:8]
    watcher = Watcher(settings) if args.watch else None
    try:
        if args.flash:
            items = {f"partner-{run_id}-flash": args.flash}
        else:
            items = {f"partner-{run_id}-{n}": 10_000_000 for n in range(args.items)}
        create_items(settings, items, watcher)
        users = [f"partner-user-{n}" for n in range(args.users)]
        target = TesseraKafka(settings, users, run_id, watcher)  # type: ignore[arg-type]
        await target.start()
        names = list(items)
        bodies = {i: booking_body(i) for i in names}
        rec = Recorder(max(1, int(args.rate * args.seconds)), run_id)

        async def fire(i: int, due: float) -> None:
            rec.due[i] = due
            item = names[i % len(names)]
            await target.fire(rec, i, item, bodies[item])

        schedule, tasks = await open_loop(args.rate, args.seconds, fire)
        await asyncio.gather(*tasks)
        rec.fired = schedule.fired
        await target.close()  # flushes: every record acknowledged or failed
        acked = [i for i in range(rec.fired) if rec.accepted(i)]
        result: dict[str, Any] = {
            "offered_per_s": args.rate,
            "sent": rec.fired,
            "acknowledged": len(acked),
            "failed": rec.fired - len(acked),
            "sent_per_s": round(rec.fired / max(schedule.ended - schedule.started, 1e-3), 1),
            "ack_ms": _dist([(rec.answered[i] - rec.due[i]) * 1000 for i in acked]),
            "generator_lag_ms": _dist([lag * 1000 for lag in schedule.lags]),
            "topic": target.topic,
        }
        if watcher is not None:
            deadline = time.monotonic() + args.drain
            while time.monotonic() < deadline and not all(target.settled(rec, i) for i in acked):
                await asyncio.sleep(0.25)
            target.resolve(rec)
            done = [i for i in acked if rec.terminal[i]]
            first, last = min(rec.due[i] for i in acked), max(rec.terminal[i] for i in done)
            result |= {
                "terminal": len(done),
                "not_terminal": len(acked) - len(done),
                "completed_per_s": round(len(done) / max(last - first, 1e-3), 1),
                "confirm_ms": _dist(
                    [(rec.confirmed[i] - rec.due[i]) * 1000 for i in acked if rec.confirmed[i]]
                ),
                "terminal_ms": _dist([(rec.terminal[i] - rec.due[i]) * 1000 for i in done]),
                "outcomes": _outcomes(rec, acked),
            }
        return result
    finally:
        if watcher is not None:
            watcher.close()


def _outcomes(rec: Recorder, rows: list[int]) -> dict[str, int]:
    counts: dict[str, int] = {}
    for i in rows:
        name = f"{rec.status[i]}" + (f":{rec.reason[i]}" if rec.reason[i] else "")
        counts[name] = counts.get(name, 0) + 1
    return counts


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rate", type=float, default=100.0, help="bookings per second")
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--items", type=int, default=100, help="spread over this many items")
    parser.add_argument("--flash", type=int, default=0, help="one hot item with this capacity")
    parser.add_argument("--users", type=int, default=1000)
    parser.add_argument("--watch", action="store_true", help="follow outcomes and latency")
    parser.add_argument("--drain", type=float, default=60.0, help="seconds to wait (--watch)")
    args = parser.parse_args(argv)
    result = uvloop.run(run(args, load_settings()))
    print(json.dumps(result))
    return 0 if result["failed"] == 0 and not result.get("not_terminal") else 1


if __name__ == "__main__":
    sys.exit(main())
