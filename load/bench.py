"""`make bench`: Tessera against a conventional baseline, same generator, same offered rates.

    make bench                                   # ~10 minutes
    BENCH_SECONDS=4 BENCH_RATES=50,100 BENCH_PROFILE=0 make bench     # a quick look
    uv run python -m load.bench serve            # Tessera + ingress for locust, until Ctrl-C

Starts Kafka, Postgres and Redis if they are not running (`tessera up --infra-only`), then:

1. Tessera on isolated topics, every role the booking path needs (timers, inventory, saga,
   payment, sink-postgres, sink-redis) plus the HTTP ingress, each its own process;
2. per scenario (`spread`: bookings over BENCH_ITEMS items; `flash`: every request for one
   hot item whose capacity is 1/BENCH_FLASH_DEMAND of the demand) a step-up of offered
   rates, BENCH_SECONDS each, open loop (load/loadgen.py), until saturation: the completed
   rate stops following the offered rate (< 90 %), the backlog passes BENCH_MAX_LAG_S
   seconds of load, p99 explodes (> max(BENCH_P99_LIMIT_MS, 4x the first step's)), or
   errors pass 1 %;
3. spread only: one step at half the measured capacity (the p99 target's condition), and a
   py-spy profile of every Tessera process at the saturating rate;
4. the invariants after each scenario (load/bench_checks.py);
5. Tessera stopped, the baseline (load/baselines/) started, and 2-4 again for it;
6. results in load/results/<timestamp>/: results.json (every figure), bench.png
   (throughput and latency percentiles over time, and against the offered rate), the
   py-spy stacks, and summary.txt (what is printed at the end: Tessera / baseline ratios).

Latency is measured from the moment a request was due (open loop: a slow server cannot
slow the generator down) to: the HTTP answer (`accept`), CONFIRMED and COMPLETED
(Tessera: the event committed to booking-events; the baseline: its synchronous answer) and
any terminal status (`terminal`). Throughput is bookings reaching a terminal status per
second, after the first BENCH_WARMUP_S seconds of a step.

Knobs (environment): BENCH_SECONDS (12), BENCH_WARMUP_S (2), BENCH_RATES (explicit list,
else BENCH_START_RATE 100 x BENCH_RATE_FACTOR 1.5 up to BENCH_MAX_RATE 4000),
BENCH_SCENARIOS (spread,flash), BENCH_SYSTEMS (tessera,baseline), BENCH_PATHS (http; add
kafka for the partner path), BENCH_ITEMS (1000), BENCH_USERS (1000), BENCH_FLASH_DEMAND
(10), BENCH_MAX_LAG_S (2), BENCH_P99_LIMIT_MS (1000), BENCH_DRAIN_S (60), BENCH_HALF (1),
BENCH_PROFILE (1), BENCH_PROFILE_SECONDS (8), BENCH_BASELINE_WORKERS (2),
BENCH_WARM_RATE (50) and BENCH_WARM_SECONDS (6) for the uncounted warm-up,
BENCH_IDLE_SECONDS (5) of CPU measured with no load after it,
BENCH_CONNECTIONS (256), BENCH_PARTITIONS (12), BENCH_OUT (load/results). The gateway
simulator's latency and the gateway policy are Tessera's own variables, the same for both
systems; unset, the benchmark uses TESSERA_SIM_LATENCY_MS=20,
TESSERA_SIM_LATENCY_JITTER_MS=10 and TESSERA_GATEWAY_BULKHEAD=256 (so the simulated
gateway, not the systems, is never what saturates). TESSERA_COMMIT_INTERVAL_S and
TESSERA_INGRESS_WORKERS apply as everywhere.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import dataclasses
import json
import math
import os
import platform
import random
import shutil
import sys
import tempfile
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import uvloop

from load import bench_checks, bench_profile, bench_report
from load.baselines import db as baseline_db
from load.bench_system import (
    PROFILED_ROLES,
    CpuMeter,
    Keys,
    Tessera,
    ensure_infra,
    infra_pids,
    start_baseline,
    start_tessera,
    stop_tessera,
)
from load.bench_targets import (
    DROPPED,
    ERROR,
    Baseline,
    Recorder,
    Target,
    TesseraHttp,
    TesseraKafka,
    booking_body,
)
from load.loadgen import Schedule, open_loop
from load.system_harness import send, wait_until
from schemas.base import Money
from schemas.inventory_commands import SetCapacity
from tessera.config import PROJECT_ROOT, Settings, load_settings

PRICE_MINOR = 2500
SPREAD_CAPACITY = 10_000_000
# What the issue asks of Tessera on this machine (compared against, never reported as results).
TARGETS = {"sustained_per_s": 1000, "p99_at_half_saturation_ms": 250, "flash_vs_baseline": 5}
GATEWAY_DEFAULTS = {
    "TESSERA_SIM_LATENCY_MS": "20",
    "TESSERA_SIM_LATENCY_JITTER_MS": "10",
    "TESSERA_GATEWAY_BULKHEAD": "256",
}
# The benchmark measures capacity, not the per-user abuse limits: lifted for its users.
INGRESS_LIMITS = {
    "TESSERA_INGRESS_USER_RATE": "100000000",
    "TESSERA_INGRESS_IP_RATE": "1000000000",
    "TESSERA_INGRESS_HOLDS_CAP": "100000",
}


def _floats(text: str) -> tuple[float, ...]:
    return tuple(float(v) for v in text.replace(" ", "").split(",") if v)


def _words(text: str) -> tuple[str, ...]:
    return tuple(v for v in text.replace(" ", "").split(",") if v)


@dataclass(frozen=True)
class BenchConfig:
    seconds: float = 12.0
    warmup_s: float = 2.0
    rates: tuple[float, ...] = ()
    scenarios: tuple[str, ...] = ("spread", "flash")
    systems: tuple[str, ...] = ("tessera", "baseline")
    paths: tuple[str, ...] = ("http",)
    items: int = 1000
    users: int = 1000
    flash_demand: float = 10.0
    max_lag_s: float = 2.0
    p99_limit_ms: float = 1000.0
    drain_s: float = 60.0
    half: bool = True
    profile: bool = True
    profile_seconds: float = 8.0
    baseline_workers: int = 2
    connections: int = 256
    warm_rate: float = 50.0
    warm_seconds: float = 6.0
    idle_seconds: float = 5.0
    partitions: int = 12
    out: Path = PROJECT_ROOT / "load" / "results"

    @classmethod
    def from_env(cls, env: dict[str, str] | None = None) -> BenchConfig:
        env = dict(os.environ if env is None else env)

        def get(name: str, default: Any, cast: Any = str) -> Any:
            return cast(env[name]) if env.get(name) else default

        rates = get("BENCH_RATES", (), _floats)
        if not rates:
            start = get("BENCH_START_RATE", 100.0, float)
            factor = get("BENCH_RATE_FACTOR", 1.5, float)
            top = get("BENCH_MAX_RATE", 4000.0, float)
            steps: list[float] = []
            rate = start
            while rate <= top * 1.0001:
                steps.append(float(round(rate)))
                rate *= factor
            rates = tuple(steps)
        return cls(
            seconds=get("BENCH_SECONDS", 12.0, float),
            warmup_s=get("BENCH_WARMUP_S", 2.0, float),
            rates=rates,
            scenarios=get("BENCH_SCENARIOS", cls.scenarios, _words),
            systems=get("BENCH_SYSTEMS", cls.systems, _words),
            paths=get("BENCH_PATHS", cls.paths, _words),
            items=get("BENCH_ITEMS", 1000, int),
            users=get("BENCH_USERS", 1000, int),
            flash_demand=get("BENCH_FLASH_DEMAND", 10.0, float),
            max_lag_s=get("BENCH_MAX_LAG_S", 2.0, float),
            p99_limit_ms=get("BENCH_P99_LIMIT_MS", 1000.0, float),
            drain_s=get("BENCH_DRAIN_S", 60.0, float),
            half=get("BENCH_HALF", "1") != "0",
            profile=get("BENCH_PROFILE", "1") != "0",
            profile_seconds=get("BENCH_PROFILE_SECONDS", 8.0, float),
            baseline_workers=get("BENCH_BASELINE_WORKERS", 2, int),
            warm_rate=get("BENCH_WARM_RATE", 50.0, float),
            warm_seconds=get("BENCH_WARM_SECONDS", 6.0, float),
            idle_seconds=get("BENCH_IDLE_SECONDS", 5.0, float),
            connections=get("BENCH_CONNECTIONS", 256, int),
            partitions=get("BENCH_PARTITIONS", 12, int),
            out=get("BENCH_OUT", cls.out, Path),
        )


# --- statistics ------------------------------------------------------------------------


def percentile(sorted_values: list[float], q: float) -> float:
    """Nearest-rank percentile of an already sorted list."""
    index = max(0, math.ceil(q * len(sorted_values)) - 1)
    return sorted_values[min(index, len(sorted_values) - 1)]


def distribution(values: list[float]) -> dict[str, float | int | None]:
    if not values:
        return {"n": 0, "p50": None, "p95": None, "p99": None, "max": None}
    ordered = sorted(values)
    return {
        "n": len(ordered),
        "p50": round(percentile(ordered, 0.50), 1),
        "p95": round(percentile(ordered, 0.95), 1),
        "p99": round(percentile(ordered, 0.99), 1),
        "max": round(ordered[-1], 1),
    }


# --- progress --------------------------------------------------------------------------


class Progress:
    """One line per step; on a terminal, a live bar while the step runs."""

    def __init__(self, stream: Any = sys.stderr) -> None:
        self.stream = stream
        self.tty = stream.isatty()
        self.started = time.monotonic()
        self.label = ""
        self.seconds = 1.0
        self._last = 0.0

    def phase(self, text: str) -> None:
        self._write(f"== {text}  (elapsed {self._elapsed()})\n")

    def step(self, label: str, seconds: float) -> None:
        self.label, self.seconds, self._last = label, seconds, 0.0

    def tick(self, elapsed: float, rec: Recorder, pending: int) -> None:
        now = time.monotonic()
        if not self.tty or now - self._last < 0.25:
            return
        self._last = now
        filled = int(30 * min(1.0, elapsed / self.seconds))
        bar = "#" * filled + "." * (30 - filled)
        self._write(
            f"\r  {self.label:<34} [{bar}] {elapsed:5.1f}/{self.seconds:.0f}s "
            f"sent {rec.fired:>6}  in flight {pending:>6}   "
        )

    def done(self, text: str) -> None:
        prefix = "\r" if self.tty else ""
        self._write(f"{prefix}  {text:<120}\n")

    def _elapsed(self) -> str:
        seconds = int(time.monotonic() - self.started)
        return f"{seconds // 60}:{seconds % 60:02d}"

    def _write(self, text: str) -> None:
        self.stream.write(text)
        self.stream.flush()


# --- one step --------------------------------------------------------------------------


@dataclass
class StepRun:
    label: str
    rate: float
    rec: Recorder
    schedule: Schedule
    cpu: dict[str, float]
    unsettled: int
    dropped: int


async def run_step(
    target: Target,
    label: str,
    rate: float,
    seconds: float,
    items: list[str],
    cfg: BenchConfig,
    progress: Progress,
    meter: CpuMeter,
    early_stop: bool = True,
) -> StepRun:
    size = max(1, int(rate * seconds))
    rec = Recorder(size, uuid.uuid4().hex[:10])  # in Idempotency-Keys: a plain token
    bodies = {item: booking_body(item) for item in items}
    rng = random.Random(label)
    choice = [items[rng.randrange(len(items))] for _ in range(size)]
    open_rows: set[int] = set()
    warm = min(cfg.warmup_s, seconds / 4)
    checked = [0.0, 0]  # last check time, open rows then

    async def fire(i: int, due: float) -> None:
        rec.due[i] = due
        rec.fired = i + 1
        open_rows.add(i)
        item = choice[i]
        await target.fire(rec, i, item, bodies[item])

    def pending() -> int:
        for i in list(open_rows):
            if target.settled(rec, i):
                open_rows.discard(i)
        return len(open_rows)

    def should_stop(elapsed: float) -> bool:
        if elapsed - checked[0] < 0.5:
            return False
        checked[0] = elapsed
        checked[1] = pending()
        return early_stop and elapsed > warm + 1 and checked[1] > max(rate * cfg.max_lag_s, 100)

    progress.step(label, seconds)
    meter.start()
    schedule, tasks = await open_loop(
        rate, seconds, fire, should_stop, lambda t: progress.tick(t, rec, int(checked[1]))
    )
    rec.fired = schedule.fired
    if tasks:
        _, left = await asyncio.wait(tasks, timeout=5.0 if schedule.stopped_early else cfg.drain_s)
        for task in left:
            task.cancel()
        if left:
            await asyncio.gather(*left, return_exceptions=True)
    dropped = 0
    for i in range(rec.fired):
        if rec.http[i] == 0:
            rec.http[i], rec.answered[i] = DROPPED, time.monotonic()
            dropped += 1
    deadline = time.monotonic() + cfg.drain_s
    while pending() and time.monotonic() < deadline:
        progress.tick(seconds, rec, len(open_rows))
        await asyncio.sleep(0.2)
    unsettled = pending()
    cpu = meter.stop()
    target.resolve(rec)
    return StepRun(label, rate, rec, schedule, cpu, unsettled, dropped)


def summarize(run: StepRun, cfg: BenchConfig, scenario: str, t0: float) -> dict[str, Any]:
    rec, schedule = run.rec, run.schedule
    fired = rec.fired
    duration = max(schedule.ended - schedule.started, 1e-3)
    warm = min(cfg.warmup_s, duration / 4)
    w0, w1 = schedule.started + warm, schedule.ended
    window = max(w1 - w0, 1e-3)
    rows = range(fired)
    in_window = [i for i in rows if w0 <= rec.due[i] <= w1]
    accepted = [i for i in rows if rec.accepted(i)]
    refused = [i for i in rows if rec.refused(i)]
    codes = Counter(rec.http[i] for i in rows if not rec.accepted(i) and not rec.refused(i))
    names = {ERROR: "no_answer", DROPPED: "dropped_by_generator"}
    # Flash sale: the winners are the first requests, mostly inside the warm-up.
    latency_rows = rows if scenario == "flash" else in_window

    def ms(times: list[float], subset: Any) -> list[float]:
        return [(times[i] - rec.due[i]) * 1000 for i in subset if times[i]]

    terminal_all = sum(1 for i in rows if rec.terminal[i])
    summary: dict[str, Any] = {
        "offered_per_s": run.rate,
        "duration_s": round(duration, 2),
        "stopped_early": schedule.stopped_early,
        "sent": fired,
        "accepted": len(accepted),
        "refused_sold_out": len(refused),
        "errors": {names.get(code, str(code)): n for code, n in codes.items()},
        "accepted_per_s": round(
            sum(1 for i in accepted if w0 <= rec.answered[i] <= w1) / window, 1
        ),
        "completed_per_s": round(sum(1 for i in rows if w0 <= rec.terminal[i] <= w1) / window, 1),
        "terminal": terminal_all,
        "unsettled": run.unsettled,
        "outcomes": dict(
            Counter(
                f"{rec.status[i]}" + (f":{rec.reason[i]}" if rec.reason[i] else "")
                for i in [*accepted, *refused]
            )
        ),
        "accept_ms": distribution(
            [
                (rec.answered[i] - rec.due[i]) * 1000
                for i in in_window
                if rec.accepted(i) or rec.refused(i)  # the answer, 202 or 409 SOLD_OUT
            ]
        ),
        "confirm_ms": distribution(ms(rec.confirmed, latency_rows)),
        "complete_ms": distribution(ms(rec.completed, latency_rows)),
        "terminal_ms": distribution(ms(rec.terminal, in_window)),
        "generator_lag_ms": distribution([lag * 1000 for lag in schedule.lags]),
        "cpu_s": run.cpu,
    }
    app = sum(v for k, v in run.cpu.items() if k not in ("wall_s", "generator", "kafka",
                                                          "postgres", "redis"))  # fmt: skip
    infra = sum(run.cpu.get(k, 0.0) for k in ("kafka", "postgres", "redis"))
    if terminal_all:
        summary["cpu_ms_per_booking"] = {
            "app": round(1000 * app / terminal_all, 2),
            "infra": round(1000 * infra / terminal_all, 2),
            "generator": round(1000 * run.cpu.get("generator", 0.0) / terminal_all, 2),
        }
    summary["series"] = series(run, scenario, t0)
    return summary


def series(run: StepRun, scenario: str, t0: float) -> dict[str, list[float | None]]:
    """Per second since the benchmark started: offered, completed, latency percentiles
    (POST -> CONFIRMED on spread, POST -> terminal on the flash sale) by due second."""
    rec = run.rec
    offered: Counter[int] = Counter()
    completed: Counter[int] = Counter()
    latency: dict[int, list[float]] = {}
    for i in range(rec.fired):
        due = int(rec.due[i] - t0)
        offered[due] += 1
        if rec.terminal[i]:
            completed[int(rec.terminal[i] - t0)] += 1
        end = rec.confirmed[i] if scenario == "spread" else rec.terminal[i]
        if end:
            latency.setdefault(due, []).append((end - rec.due[i]) * 1000)
    if not offered:
        return {}
    seconds = range(min(offered), max([*offered, *completed]) + 1)
    out: dict[str, list[float | None]] = {"t": [float(s) for s in seconds]}
    out["offered"] = [float(offered[s]) for s in seconds]
    out["completed"] = [float(completed[s]) for s in seconds]
    for name, q in (("p50", 0.5), ("p95", 0.95), ("p99", 0.99)):
        out[name] = [
            round(percentile(sorted(latency[s]), q), 1) if latency.get(s) else None for s in seconds
        ]
    return out


def judge(step: dict[str, Any], first_p99: float | None, cfg: BenchConfig, key: str) -> list[str]:
    """Why this step counts as saturated (empty: it kept up)."""
    reasons = []
    if step["stopped_early"]:
        reasons.append("backlog")
    if step["completed_per_s"] < 0.9 * step["offered_per_s"]:
        reasons.append("throughput")
    p99 = step[key]["p99"]
    limit = max(cfg.p99_limit_ms, 4 * first_p99) if first_p99 else cfg.p99_limit_ms
    if p99 is not None and p99 > limit:
        reasons.append("latency")
    if sum(step["errors"].values()) > 0.01 * max(step["sent"], 1):
        reasons.append("errors")
    if step["unsettled"]:
        reasons.append("not drained")
    return reasons


# --- systems ---------------------------------------------------------------------------


@dataclass
class System:
    """One system under test, as the scenarios need it."""

    name: str
    target: Target
    meter: CpuMeter
    create_items: Any  # (list[(item, capacity)]) -> None
    check: Any  # (items: dict[str, int], accepted: set[str]) -> dict
    profile_pids: dict[str, int] = field(default_factory=dict)


def tessera_system(tessera: Tessera, target: Target, stack: Settings) -> System:
    settings = tessera.settings
    watcher = tessera.system.watcher

    def create_items(items: list[tuple[str, int]]) -> None:
        commands = [SetCapacity(item_id=i, capacity=c, price=Money(PRICE_MINOR)) for i, c in items]
        send(settings, tessera.system.producer, commands)
        wanted = dict(items)
        wait_until(
            lambda: all(
                (snap := watcher.items.get(i)) is not None and snap.capacity == c
                for i, c in wanted.items()
            ),
            60,
            f"{len(items)} items in the inventory",
        )

    def check(items: dict[str, int], accepted: set[str]) -> dict[str, Any]:
        log = bench_checks.check_tessera_log(watcher, items, accepted)
        pg = bench_checks.check_tessera_postgres(settings, watcher, items)
        return {"ok": log["ok"] and pg["ok"], "kafka_record": log, "postgres_sinks": pg}

    pids = tessera.pids()
    meter = CpuMeter({**pids, **infra_pids(stack)})
    profiled = {role: pid for role, pid in pids.items() if role in PROFILED_ROLES}
    return System(target.name, target, meter, create_items, check, profiled)


def baseline_system(target: Baseline, pid: int, stack: Settings) -> System:
    def create_items(items: list[tuple[str, int]]) -> None:
        baseline_db.add_items(stack, [(i, c, PRICE_MINOR) for i, c in items])

    def check(items: dict[str, int], accepted: set[str]) -> dict[str, Any]:
        return bench_checks.check_baseline(baseline_db.dsn(stack), items, accepted)

    meter = CpuMeter({"baseline": pid, **infra_pids(stack)})
    return System("baseline", target, meter, create_items, check)


# --- scenarios -------------------------------------------------------------------------


async def run_scenario(
    system: System,
    scenario: str,
    cfg: BenchConfig,
    run_id: str,
    progress: Progress,
    t0: float,
    out_dir: Path,
) -> dict[str, Any]:
    key = "confirm_ms" if scenario == "spread" else "terminal_ms"
    items: dict[str, int] = {}
    accepted: set[str] = set()
    if scenario == "spread":
        spread = [f"spread-{run_id}-{system.name}-{k}" for k in range(cfg.items)]
        system.create_items([(i, SPREAD_CAPACITY) for i in spread])
        items.update(dict.fromkeys(spread, SPREAD_CAPACITY))

    def collect(run: StepRun) -> None:
        accepted.update(
            b for i in range(run.rec.fired) if run.rec.accepted(i) and (b := run.rec.booking[i])
        )

    async def step(rate: float, seconds: float, label: str, early_stop: bool = True) -> StepRun:
        if scenario == "flash":
            hot = f"flash-{run_id}-{system.name}-{len(items)}"
            capacity = max(10, math.ceil(rate * seconds / cfg.flash_demand))
            system.create_items([(hot, capacity)])
            items[hot] = capacity
            step_items = [hot]
        else:
            step_items = spread
        run = await run_step(
            system.target, label, rate, seconds, step_items, cfg, progress, system.meter,
            early_stop,
        )  # fmt: skip
        collect(run)
        return run

    ladder: list[dict[str, Any]] = []
    first_p99: float | None = None
    for rate in cfg.rates:
        run = await step(rate, cfg.seconds, f"{system.name} {scenario} {rate:g}/s")
        summary = summarize(run, cfg, scenario, t0)
        reasons = judge(summary, first_p99, cfg, key)
        summary["saturated"], summary["saturation_reasons"] = bool(reasons), reasons
        first_p99 = first_p99 or summary[key]["p99"]
        ladder.append(summary)
        progress.done(describe(run.label, summary, key))
        if reasons:
            break
    result: dict[str, Any] = {"latency_key": key, "ladder": ladder}
    result |= capacity_of(ladder)
    result["cpu_model"] = cpu_model(ladder)
    if scenario == "spread" and cfg.half and result["capacity_per_s"]:
        rate = max(1.0, round(result["capacity_per_s"] / 2))
        run = await step(rate, cfg.seconds, f"{system.name} {scenario} half {rate:g}/s")
        half = summarize(run, cfg, scenario, t0)
        half["saturation_reasons"] = judge(half, None, cfg, key)
        result["half_saturation"] = half
        progress.done(describe(run.label, half, key))
    if scenario == "spread" and cfg.profile and system.profile_pids:
        result["profile"] = await profile(system, cfg, result, progress, step, out_dir)
    progress.done(f"{system.name} {scenario}: checking invariants ...")
    result["invariants"] = system.check(items, accepted)
    verdict = "OK" if result["invariants"]["ok"] else "VIOLATED"
    progress.done(f"{system.name} {scenario}: invariants {verdict}")
    return result


async def profile(
    system: System,
    cfg: BenchConfig,
    result: dict[str, Any],
    progress: Progress,
    step: Any,
    out_dir: Path,
) -> dict[str, Any]:
    """py-spy on every process while offered the saturating rate (no early stop)."""
    rate = result["saturation_offered_per_s"] or result["ladder"][-1]["offered_per_s"]
    seconds = cfg.profile_seconds
    where = out_dir / f"profile-{system.name}"
    procs = bench_profile.record(system.profile_pids, seconds, where)
    if not procs:
        return {"error": "py-spy not found"}
    run = await step(rate, seconds, f"{system.name} spread profile {rate:g}/s", False)
    summaries = await asyncio.to_thread(bench_profile.finish, procs, where, seconds + 30)
    progress.done(f"{run.label}: py-spy stacks in {where}")
    return {
        "offered_per_s": rate,
        "seconds": seconds,
        "cpu_s": run.cpu,
        "processes": summaries,
        "dir": str(where),
    }


async def warm_up(
    system: System, cfg: BenchConfig, run_id: str, progress: Progress, t0: float
) -> dict[str, Any]:
    """Before anything is measured: every partition assigned and its state store open, every
    connection and prepared statement in place (a cold first step would measure start-up)."""
    items = [f"warm-{run_id}-{system.name}-{k}" for k in range(48)]
    system.create_items([(i, SPREAD_CAPACITY) for i in items])
    label = f"{system.name} warm-up {cfg.warm_rate:g}/s"
    run = await run_step(
        system.target, label, cfg.warm_rate, cfg.warm_seconds, items, cfg, progress,
        system.meter, early_stop=False,
    )  # fmt: skip
    summary = summarize(run, cfg, "spread", t0)
    summary.pop("series")
    progress.done(describe(label, summary, "confirm_ms") + "  (not counted)")
    warm = {k: summary[k] for k in ("sent", "accepted", "terminal", "unsettled", "confirm_ms")}
    # What the system burns with nothing to do: polls, commits, heartbeats.
    system.meter.start()
    await asyncio.sleep(cfg.idle_seconds)
    idle = system.meter.stop()
    wall = idle.pop("wall_s")
    warm["idle_cores"] = {k: round(v / wall, 3) for k, v in idle.items()}
    progress.done(
        f"{system.name} idle for {wall:.0f} s: "
        + ", ".join(f"{k} {v:.2f}" for k, v in warm["idle_cores"].items())
        + " cores"
    )
    return warm


def cpu_model(steps: list[dict[str, Any]]) -> dict[str, Any] | None:
    """Least-squares fit, per process, of cores = base + rate x seconds-per-booking over the
    steps that kept up. `base` (fixed_cores) is what does not grow with the rate in the
    measured range -- per-commit and per-poll work once every partition is busy -- which is
    not the idle cost (warm_up.idle_cores measures that)."""
    points = [
        (s["terminal"] / s["cpu_s"]["wall_s"], s["cpu_s"])
        for s in steps
        if not s.get("saturated") and s["terminal"] and s["cpu_s"].get("wall_s")
    ]
    if len(points) < 2:
        return None
    xs = [x for x, _ in points]
    mean_x = sum(xs) / len(xs)
    spread = sum((x - mean_x) ** 2 for x in xs)
    if spread <= 0:
        return None
    model: dict[str, Any] = {}
    for name in points[0][1]:
        if name == "wall_s":
            continue
        ys = [cpu.get(name, 0.0) / cpu["wall_s"] for _, cpu in points]
        mean_y = sum(ys) / len(ys)
        slope = sum((x - mean_x) * (y - mean_y) for x, y in zip(xs, ys, strict=True)) / spread
        model[name] = {
            "fixed_cores": round(mean_y - slope * mean_x, 3),
            "ms_per_booking": round(1000 * slope, 3),
        }
    measured = {k: v for k, v in model.items() if k != "generator"}
    fixed = sum(v["fixed_cores"] for v in measured.values())
    marginal = sum(v["ms_per_booking"] for v in measured.values()) / 1000
    cores = os.cpu_count() or 1
    return {
        "by_process": model,
        "fixed_cores": round(fixed, 3),
        "ms_per_booking": round(1000 * marginal, 3),
        "implied_capacity_per_s": round((cores - fixed) / marginal, 1) if marginal > 0 else None,
        "fitted_steps": len(points),
        "cores": cores,
    }


def capacity_of(ladder: list[dict[str, Any]]) -> dict[str, Any]:
    kept_up = [s for s in ladder if not s["saturated"]]
    saturated = [s for s in ladder if s["saturated"]]
    return {
        "capacity_per_s": max((s["completed_per_s"] for s in ladder), default=0.0),
        "max_sustained_offered_per_s": max((s["offered_per_s"] for s in kept_up), default=None),
        "saturation_offered_per_s": saturated[0]["offered_per_s"] if saturated else None,
        "saturated": bool(saturated),
    }


def describe(label: str, s: dict[str, Any], key: str) -> str:
    lat = s[key]
    text = (
        f"{label:<34} done {s['completed_per_s']:>7.1f}/s  {key[:-3]} p50 {lat['p50']} "
        f"p95 {lat['p95']} p99 {lat['p99']} ms  n={lat['n']}"
    )
    if s.get("saturation_reasons"):
        text += f"  SATURATED ({', '.join(s['saturation_reasons'])})"
    return text


# --- the run ---------------------------------------------------------------------------


def ratios(results: dict[str, Any]) -> dict[str, Any]:
    """Tessera / baseline, per scenario: throughput (capacity) and p99 at common rates."""
    out: dict[str, Any] = {}
    tessera = results.get("tessera", {}).get("http", {})
    baseline = results.get("baseline", {})
    for scenario in ("spread", "flash"):
        t, b = tessera.get(scenario), baseline.get(scenario)
        if not t or not b:
            continue
        key = t["latency_key"]
        entry: dict[str, Any] = {"latency": key}
        if b["capacity_per_s"]:
            entry["throughput"] = round(t["capacity_per_s"] / b["capacity_per_s"], 2)
        t_steps = {s["offered_per_s"]: s for s in t["ladder"]}
        b_steps = {s["offered_per_s"]: s for s in b["ladder"]}
        per_rate = {}
        for rate in sorted(set(t_steps) & set(b_steps)):
            tp, bp = t_steps[rate][key]["p99"], b_steps[rate][key]["p99"]
            if tp is not None and bp:
                per_rate[f"{rate:g}"] = {
                    "tessera_p99_ms": tp,
                    "baseline_p99_ms": bp,
                    "ratio": round(tp / bp, 2),
                    "both_kept_up": not t_steps[rate]["saturated"]
                    and not b_steps[rate]["saturated"],
                }
        entry["p99_by_offered_rate"] = per_rate
        both = [r for r, v in per_rate.items() if v["both_kept_up"]]
        if both:
            top = max(both, key=float)
            entry["p99"] = per_rate[top]["ratio"]
            entry["p99_at_offered_per_s"] = float(top)
            t_cpu = t_steps[float(top)].get("cpu_ms_per_booking")
            b_cpu = b_steps[float(top)].get("cpu_ms_per_booking")
            if t_cpu and b_cpu and b_cpu["app"] + b_cpu["infra"]:
                t_total, b_total = t_cpu["app"] + t_cpu["infra"], b_cpu["app"] + b_cpu["infra"]
                entry["cpu_ms_per_booking"] = {
                    "tessera": round(t_total, 2),
                    "baseline": round(b_total, 2),
                    "ratio": round(t_total / b_total, 2),
                    "at_offered_per_s": float(top),
                }
        out[scenario] = entry
    return out


def targets(results: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {"wanted": TARGETS}
    spread = results.get("tessera", {}).get("http", {}).get("spread")
    if spread:
        out["sustained_per_s"] = spread["capacity_per_s"]
        out["sustained_met"] = spread["capacity_per_s"] >= TARGETS["sustained_per_s"]
        half = spread.get("half_saturation")
        if half and half["confirm_ms"]["p99"] is not None:
            out["p99_at_half_saturation_ms"] = half["confirm_ms"]["p99"]
            out["p99_at_half_saturation_met"] = (
                half["confirm_ms"]["p99"] <= TARGETS["p99_at_half_saturation_ms"]
            )
    flash = results.get("ratios", {}).get("flash", {}).get("throughput")
    if flash is not None:
        out["flash_vs_baseline"] = flash
        out["flash_vs_baseline_met"] = flash >= TARGETS["flash_vs_baseline"]
    return out


def machine() -> dict[str, Any]:
    model = ""
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    mem_kb = 0
    with contextlib.suppress(OSError, ValueError, IndexError):
        mem_kb = int(Path("/proc/meminfo").read_text().split()[1])
    return {
        "cpus": os.cpu_count(),
        "cpu_model": model,
        "memory_gib": round(mem_kb / 1024 / 1024, 1),
        "platform": platform.platform(),
        "python": platform.python_version(),
        "loadavg_at_start": os.getloadavg(),
    }


async def bench(cfg: BenchConfig, progress: Progress) -> dict[str, Any]:
    for name, value in {**GATEWAY_DEFAULTS, **INGRESS_LIMITS}.items():
        os.environ.setdefault(name, value)
    stack = load_settings()
    run_id = uuid.uuid4().hex[:8]
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    out_dir = cfg.out / stamp
    out_dir.mkdir(parents=True, exist_ok=True)
    progress.phase(f"results in {out_dir}")
    progress.phase("infrastructure (tessera up --infra-only if needed)")
    started_infra = ensure_infra(stack)
    keys = Keys(Path(tempfile.mkdtemp(prefix="tessera-bench-keys-")))
    users = [f"bench-{run_id}-user-{n}" for n in range(cfg.users)]
    tokens = keys.tokens(stack, users)
    os.environ["TESSERA_JWKS"] = str(keys.jwks)
    results: dict[str, Any] = {
        "run_id": run_id,
        "started_at": datetime.now(UTC).isoformat(),
        "machine": machine(),
        "config": {
            **{
                k: (str(v) if isinstance(v, Path) else v)
                for k, v in dataclasses.asdict(cfg).items()
            },
            "commit_interval_s": stack.commit_interval_s,
            "gateway_bulkhead": stack.gateway_bulkhead,
            "gateway_timeout_s": stack.gateway_timeout_s,
            "gateway_attempts": stack.gateway_attempts,
            "sim_latency_ms": os.environ["TESSERA_SIM_LATENCY_MS"],
            "sim_latency_jitter_ms": os.environ["TESSERA_SIM_LATENCY_JITTER_MS"],
            "ingress_workers": int(os.environ.get("TESSERA_INGRESS_WORKERS", "1")),
            "started_infrastructure": started_infra,
        },
    }
    t0 = time.monotonic()
    try:
        if "tessera" in cfg.systems:
            results["tessera"] = await bench_tessera(cfg, stack, tokens, users, run_id, progress,
                                                     t0, out_dir)  # fmt: skip
        if "baseline" in cfg.systems:
            results["baseline"] = await bench_baseline(cfg, stack, keys, tokens, run_id,
                                                       progress, t0, out_dir)  # fmt: skip
    finally:
        shutil.rmtree(keys.home, ignore_errors=True)
        if started_infra:
            from tessera.runtime.stack import stop_all

            progress.phase("stopping the infrastructure this run started")
            stop_all(stack)
    results["ratios"] = ratios(results)
    results["targets"] = targets(results)
    results["finished_at"] = datetime.now(UTC).isoformat()
    results["machine"]["loadavg_at_end"] = os.getloadavg()
    results["out_dir"] = str(out_dir)
    return results


async def bench_tessera(
    cfg: BenchConfig,
    stack: Settings,
    tokens: list[str],
    users: list[str],
    run_id: str,
    progress: Progress,
    t0: float,
    out_dir: Path,
) -> dict[str, Any]:
    progress.phase("Tessera: starting pipelines, sinks and ingress on isolated topics")
    tessera = start_tessera(
        stack, http="http" in cfg.paths, partitions=cfg.partitions, overrides={}
    )
    results: dict[str, Any] = {"topic_prefix": tessera.settings.topic_prefix}
    try:
        for path in cfg.paths:
            target: Target
            if path == "http":
                target = TesseraHttp(
                    tessera.settings.ingress_port, tokens, run_id, cfg.connections,
                    tessera.system.watcher,
                )  # fmt: skip
            else:
                target = TesseraKafka(tessera.settings, users, run_id, tessera.system.watcher)
            await target.start()
            system = tessera_system(tessera, target, stack)
            results[path] = {"warm_up": await warm_up(system, cfg, run_id, progress, t0)}
            try:
                for scenario in cfg.scenarios:
                    progress.phase(f"Tessera ({path}) {scenario}")
                    results[path][scenario] = await run_scenario(
                        system, scenario, cfg, run_id, progress, t0, out_dir
                    )
            finally:
                await target.close()
    finally:
        progress.phase("Tessera: stopping")
        logs = out_dir / "logs-tessera"
        with contextlib.suppress(OSError):
            shutil.copytree(tessera.log_dir, logs, dirs_exist_ok=True)
        stop_tessera(tessera)
    return results


async def bench_baseline(
    cfg: BenchConfig,
    stack: Settings,
    keys: Keys,
    tokens: list[str],
    run_id: str,
    progress: Progress,
    t0: float,
    out_dir: Path,
) -> dict[str, Any]:
    progress.phase(f"baseline: starting ({cfg.baseline_workers} granian workers)")
    # No TRUNCATE: item and user ids are unique per run, and a test may share the database.
    baseline_db.ensure_database(stack)
    server, port = start_baseline(stack, keys, cfg.baseline_workers, out_dir)
    results: dict[str, Any] = {"workers": cfg.baseline_workers}
    try:
        target = Baseline(port, tokens, run_id, cfg.connections)
        system = baseline_system(target, server.pid, stack)
        try:
            results["warm_up"] = await warm_up(system, cfg, run_id, progress, t0)
            for scenario in cfg.scenarios:
                progress.phase(f"baseline {scenario}")
                results[scenario] = await run_scenario(
                    system, scenario, cfg, run_id, progress, t0, out_dir
                )
        finally:
            await target.close()
    finally:
        server.stop()
    return results


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    sub = parser.add_subparsers(dest="command")
    serve = sub.add_parser("serve", help="run Tessera with its ingress for locust, until Ctrl-C")
    serve.add_argument("--seconds", type=float, default=0, help="stop after this long (0: never)")
    args = parser.parse_args(argv)
    if args.command == "serve":
        from load.bench_serve import serve as run_serve

        return run_serve(args.seconds)
    cfg = BenchConfig.from_env()
    progress = Progress()
    results = uvloop.run(bench(cfg, progress))
    out_dir = Path(results["out_dir"])
    (out_dir / "results.json").write_text(json.dumps(results, indent=2, default=str) + "\n")
    bench_report.plot(results, out_dir / "bench.png")
    text = bench_report.summary(results)
    (out_dir / "summary.txt").write_text(text + "\n")
    print(text)
    failed = [
        f"{system}/{scenario}"
        for system, scenarios in bench_report.scenario_results(results)
        for scenario, result in scenarios.items()
        if not result["invariants"]["ok"]
    ]
    if failed:
        print(f"INVARIANTS VIOLATED: {', '.join(failed)}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
