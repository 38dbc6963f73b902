"""Per-record cost of tracing in the pipeline runner: 10k make_step calls, with and without.

    uv run python -m tests.ops.bench_tracing [N]

"without" swaps the tracing and log-context helpers for no-ops (what make_step did before
tracing); "with" is the shipped code at the default sampling (1%, no exporter); "recorded"
samples every trace (ratio 1.0) so every span is a real SDK span.
"""

from __future__ import annotations

import contextlib
import sys
import time
import types
from typing import Any
from unittest import mock

from load.system_harness import create_booking
from pipelines.runtime import application
from pipelines.saga.app import handle, policy_from
from schemas import codec
from schemas.topics import BOOKING_COMMANDS
from tessera import tracing
from tessera.config import Settings

TOPIC = "bench.booking-commands"
PARENT = b"00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"


class DictState:
    def __init__(self) -> None:
        self.data: dict[bytes, bytes] = {}

    def get(self, key: bytes) -> bytes | None:
        return self.data.get(key)

    def set(self, key: bytes, value: bytes) -> None:
        self.data[key] = value

    def delete(self, key: bytes) -> None:
        self.data.pop(key, None)


NO_TRACING = types.SimpleNamespace(
    setup=lambda _role: None,
    start_span_from_headers=lambda *_a, **_k: contextlib.nullcontext(None),
    inject=lambda headers, _span=None: headers,
    mark_error=lambda *_a: None,
)
NO_CONTEXT = types.SimpleNamespace(bind=lambda **_k: None, unbind=lambda _t: None)


def run(n: int) -> float:
    from functools import partial

    step = application.make_step(
        "saga", {TOPIC: BOOKING_COMMANDS}, partial(handle, policy_from(Settings()))
    )
    commands = [
        create_booking(user_id="u", item_id="it", quantity=1, payment_method="pm") for _ in range(n)
    ]
    records = [codec.encode(c) for c in commands]
    keys = [c.booking_id.encode() for c in commands]
    headers = [("traceparent", PARENT), ("x-correlation-id", b"c")]
    state = DictState()
    ctx = types.SimpleNamespace(topic=TOPIC)
    with mock.patch.object(application, "message_context", lambda: ctx):
        started = time.perf_counter()
        for value, key in zip(records, keys, strict=True):
            step(value, key, 0, headers, state)
        return (time.perf_counter() - started) / n * 1e6


def measure(n: int, repeats: int = 7) -> dict[str, float]:
    results: dict[str, list[float]] = {"without": [], "with": [], "recorded": []}
    for _ in range(repeats):
        with mock.patch.multiple(application, tracing=NO_TRACING, telemetry=NO_CONTEXT):
            results["without"].append(run(n))
        tracing._tracer = None  # noqa: SLF001
        results["with"].append(run(n))
        tracing._tracer = None  # noqa: SLF001
        with mock.patch.dict("os.environ", {"TESSERA_TRACE_SAMPLE_RATIO": "1.0"}):
            results["recorded"].append(run(n))
        tracing._tracer = None  # noqa: SLF001
    # The best of 7 interleaved runs: the machine is shared, noise only ever adds time.
    return {name: min(values) for name, values in results.items()}


def main(argv: list[str]) -> Any:
    n = int(argv[1]) if len(argv) > 1 else 10_000
    medians = measure(n)
    base = medians["without"]
    for name, micros in medians.items():
        print(f"{name:9} {micros:7.1f} us/record  (+{micros - base:5.1f} us, {n} calls, best of 7)")
    return medians


if __name__ == "__main__":
    main(sys.argv)
