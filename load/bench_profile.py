"""py-spy profiles of running processes, summarized: where the CPU time goes.

`record(pids, seconds, out_dir)` samples each process tree (`py-spy record --format raw
--subprocesses --nonblocking --gil`: only threads holding the GIL, i.e. Python at work)
into `<role>.txt` (collapsed stacks: flamegraph.pl or speedscope read them); `finish`
waits for the recorders and `summarize` reads the stacks back: the share of samples per
library (attributed to the innermost frame from a known library) and the top functions by
self and by inclusive time.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from collections import Counter
from pathlib import Path
from typing import Any

LIBRARIES = (
    ("quixstreams", "quixstreams/"),
    ("confluent_kafka", "confluent_kafka/"),
    ("rocksdict", "rocksdict"),
    ("msgspec", "msgspec/"),
    ("prometheus_client", "prometheus_client/"),
    ("psycopg", "psycopg"),
    ("redis", "redis/"),
    ("granian", "granian/"),
    ("jwt", "jwt/"),
    ("logging", "logging/"),
    ("json", "json/"),
    ("asyncio", "asyncio/"),
    ("uvloop", "uvloop/"),
    ("threading", "threading.py"),
    ("tessera.schemas", "schemas/"),
    ("tessera.state_stores", "state_stores/"),
    ("tessera.pipelines", "pipelines/"),
    ("tessera.sinks", "sinks/"),
    ("tessera.ingress", "ingress/"),
    ("tessera.runtime", "tessera/"),
)


# What a sample was doing, judged by the innermost frame that matches (name or path part).
OPERATIONS = (
    ("kafka produce", ("Producer.produce", "InternalProducer.produce", "CommandProducer.send")),
    (
        "kafka transaction/commit",
        (
            "begin_transaction",
            "commit_transaction",
            "send_offsets_to_transaction",
            "Producer.flush",
            "abort_transaction",
            "consumer_group_metadata",
            "Checkpoint",
            "SinkConsumer.commit",
            "OffsetTracker",
        ),
    ),  # fmt: skip
    (
        "kafka poll/deserialize",
        (
            "poll_row",
            "BaseConsumer.poll",
            "row_deserialize",
            "Consumer.poll",
            "poll_batch",
            "SinkConsumer.positions",
            "Consumer.consume",
        ),
    ),  # fmt: skip
    ("state store (RocksDB)", ("RocksDB", "PartitionTransaction", "rocksdict")),
    ("metrics", ("prometheus_client/",)),
    ("tracing", ("tracing.py", "opentelemetry/")),
    ("logging", ("logging/",)),
    ("json/msgspec codec", ("msgspec/", "codec.py", "decode.py", "encode")),
    ("domain logic", ("state_stores/", "intents.py", "outcomes.py", "projection.py")),
    ("postgres", ("psycopg",)),
    ("redis", ("redis/",)),
    ("http server", ("granian/", "ingress/http.py", "ingress/app.py")),
    ("gateway simulator", ("gateways/",)),
    ("quixstreams framework", ("quixstreams/",)),
    ("tessera runtime glue", ("pipelines/runtime/", "sinks/base/", "tessera/", "ingress/")),
    ("asyncio", ("asyncio/", "uvloop/")),
)
GENERIC = {"asyncio"}  # only when nothing more specific is further out


def _operation(frames: list[tuple[str, str]]) -> str:
    generic = None
    for name, path in reversed(frames):
        for operation, markers in OPERATIONS:
            if any(m in name or m in path for m in markers):
                if operation not in GENERIC:
                    return operation
                generic = generic or operation
                break
    return generic or "other"


def py_spy() -> str | None:
    local = Path(sys.executable).with_name("py-spy")
    return str(local) if local.exists() else shutil.which("py-spy")


def record(pids: dict[str, int], seconds: float, out_dir: Path) -> dict[str, subprocess.Popen]:
    """Start one recorder per process; wait for them with `finish`."""
    binary = py_spy()
    if binary is None:
        return {}
    out_dir.mkdir(parents=True, exist_ok=True)
    procs = {}
    for role, pid in pids.items():
        argv = [binary, "record", "--pid", str(pid), "--duration", str(int(seconds))]
        # --gil: only samples holding the GIL, i.e. Python doing work (librdkafka's poll
        # and other native waits would otherwise look busy).
        argv += ["--rate", "50", "--format", "raw", "--subprocesses", "--nonblocking", "--gil"]
        argv += ["--output", str(out_dir / f"{role}.txt")]
        procs[role] = subprocess.Popen(
            argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, stdin=subprocess.DEVNULL
        )
    return procs


def finish(procs: dict[str, subprocess.Popen], out_dir: Path, timeout_s: float) -> dict[str, Any]:
    summaries: dict[str, Any] = {}
    for role, proc in procs.items():
        try:
            _, err = proc.communicate(timeout=timeout_s)
        except subprocess.TimeoutExpired:
            proc.kill()
            _, err = proc.communicate()
        path = out_dir / f"{role}.txt"
        if path.exists():
            summaries[role] = summarize(path)
        else:
            summaries[role] = {"error": (err or b"").decode(errors="replace")[-300:]}
    return summaries


def _frame_name(frame: str) -> tuple[str, str]:
    """'func (path/file.py:12)' -> ('file.py:func', 'path/file.py')."""
    name, _, where = frame.rpartition(" (")
    path = where.rstrip(")").rsplit(":", 1)[0]
    return f"{Path(path).name}:{name or frame}", path


def _library(path: str) -> str | None:
    """py-spy names files relative to their sys.path entry (quixstreams/app.py)."""
    rooted = "/" + path
    for library, marker in LIBRARIES:
        if "/" + marker in rooted:
            return library
    return None


def summarize(path: Path, top: int = 12) -> dict[str, Any]:
    self_time: Counter[str] = Counter()
    inclusive: Counter[str] = Counter()
    libraries: Counter[str] = Counter()
    operations: Counter[str] = Counter()
    total = 0
    for line in path.read_text(errors="replace").splitlines():
        stack, _, count_text = line.rpartition(" ")
        if not stack or not count_text.isdigit():
            continue
        count = int(count_text)
        total += count
        frames = [_frame_name(f) for f in stack.split(";") if " (" in f]
        if not frames:
            continue
        self_time[frames[-1][0]] += count
        for name in {name for name, _ in frames}:
            inclusive[name] += count
        library = next(
            (lib for _, p in reversed(frames) if (lib := _library(p)) is not None), "other"
        )
        libraries[library] += count
        operations[_operation(frames)] += count

    def shares(counter: Counter[str]) -> list[tuple[str, float]]:
        return [(k, round(100 * v / total, 1)) for k, v in counter.most_common(top)]

    # The trunk every stack shares (runpy, cli, main, the run loop) says nothing: inclusive
    # times start below the frames found in (nearly) every sample.
    trunk = max(inclusive.values(), default=0) * 0.9
    branches = Counter({k: v for k, v in inclusive.items() if v < trunk})
    return {
        "samples": total,
        "by_library_pct": shares(libraries),
        "by_operation_pct": shares(operations),
        "top_self_pct": shares(self_time),
        "top_inclusive_pct": shares(branches),
        "raw": path.name,
    }
