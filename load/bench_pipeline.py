"""End-to-end latency and throughput of the Kafka path, per exactly-once commit interval.

Bookings enter as partners send them (straight to booking-commands) at a fixed rate; the
clock stops when the booking's CONFIRMED event is committed and visible to a
read_committed consumer. Every pipeline runs as its own process, as in production.

    uv run tessera up --infra-only
    uv run python -m load.bench_pipeline --rate 200 --seconds 10 --commit-interval 0.05 0.1 0.5
"""

from __future__ import annotations

import argparse
import json
import re
import statistics
import time
import urllib.request
import uuid

from load.hop_latency import hop_percentiles, record_times
from load.system_harness import (
    RunningSystem,
    create_booking,
    send,
    start_system,
    stop_system,
    wait_until,
)
from schemas.base import Money
from schemas.inventory_commands import SetCapacity
from tessera.config import load_settings

TERMINAL = {"COMPLETED", "CANCELLED", "FAILED"}


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def commit_figures(metrics_port: int) -> dict[str, tuple[float, float]]:
    """Per trigger: commits so far and their mean duration in ms (from /metrics)."""
    with urllib.request.urlopen(f"http://127.0.0.1:{metrics_port}/metrics", timeout=5) as r:  # noqa: S310
        text = r.read().decode()
    found: dict[str, dict[str, float]] = {}
    for kind, trigger, value in re.findall(
        r'tessera_pipeline_commit_seconds_(sum|count)\{[^}]*trigger="(\w+)"[^}]*\} ([\d.e+-]+)',
        text,
    ):
        found.setdefault(trigger, {})[kind] = float(value)
    return {
        t: (f["count"], 1000 * f["sum"] / f["count"]) for t, f in found.items() if f.get("count")
    }


def warm_up(system: RunningSystem, item_ids: list[str]) -> None:
    """Every partition assigned, every changelog created, every connection open."""
    commands = [
        create_booking(
            user_id="warm",
            item_id=item_ids[n % len(item_ids)],
            quantity=1,
            payment_method="pm_card_visa",
        )
        for n in range(4 * len(item_ids))
    ]
    bookings = [c.booking_id for c in commands]
    send(system.settings, system.producer, commands)
    wait_until(lambda: all(system.watcher.status(b) in TERMINAL for b in bookings), 120, "warm-up")


def run(
    commit_interval: float, rate: int, seconds: int, items: int, partitions: int
) -> dict[str, float]:
    system = start_system(
        load_settings(),
        commit_interval_s=commit_interval,
        partitions=partitions,
        gateway="simulated",
    )
    try:
        item_ids = [f"bench-{uuid.uuid4().hex[:8]}" for _ in range(items)]
        send(
            system.settings,
            system.producer,
            [SetCapacity(item_id=i, capacity=1_000_000, price=Money(2500)) for i in item_ids],
        )
        wait_until(lambda: all(i in system.watcher.items for i in item_ids), 60, "items")
        warm_up(system, item_ids)
        sent_at: dict[str, float] = {}
        started = time.monotonic()
        for n in range(rate * seconds):
            due = started + n / rate
            delay = due - time.monotonic()
            if delay > 0:
                time.sleep(delay)
            message = create_booking(
                user_id=f"u{n}",
                item_id=item_ids[n % items],
                quantity=1,
                payment_method="pm_card_visa",
            )
            sent_at[message.booking_id] = time.monotonic()
            send(system.settings, system.producer, [message], flush=False)
        system.producer.flush(30)
        wait_until(
            lambda: all(system.watcher.status(b) in TERMINAL for b in sent_at),
            120,
            "every booking terminal",
        )
        finished = time.monotonic()
        latencies = [
            (system.watcher.first_seen[(b, "CONFIRMED")] - t) * 1000 for b, t in sent_at.items()
        ]
        hops = hop_percentiles(record_times(system.settings, set(sent_at)))
        commits = {
            role: commit_figures(system.pipelines.components[role].metrics_port)
            for role in ("saga", "inventory", "timers")
        }
        return {
            "hops": hops,
            "commits": commits,
            "commit_interval_s": commit_interval,
            "offered_per_s": rate,
            "bookings": len(sent_at),
            "completed_per_s": round(len(sent_at) / (finished - started), 1),
            "confirm_p50_ms": round(statistics.median(latencies), 1),
            "confirm_p95_ms": round(percentile(latencies, 0.95), 1),
            "confirm_p99_ms": round(percentile(latencies, 0.99), 1),
        }
    finally:
        stop_system(system)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rate", type=int, default=200, help="bookings offered per second")
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--items", type=int, default=50)
    parser.add_argument("--commit-interval", type=float, nargs="+", default=[0.05, 0.1, 0.5])
    parser.add_argument("--partitions", type=int, default=12)
    args = parser.parse_args()
    for interval in args.commit_interval:
        result = run(interval, args.rate, args.seconds, args.items, args.partitions)
        for role, triggers in result.pop("commits").items():
            for trigger, (count, mean_ms) in triggers.items():
                print(f"  {role:10} commits on {trigger:9} {count:6.0f}, mean {mean_ms:6.1f} ms")
        for hop, figures in result.pop("hops").items():
            print(f"  {hop:40} p50 {figures['p50_ms']:7.1f} ms  p99 {figures['p99_ms']:7.1f} ms")
        print(json.dumps(result | {"partitions": args.partitions}), flush=True)


if __name__ == "__main__":
    main()
