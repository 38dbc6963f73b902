"""Trace context through the pipeline runner: a child span per record whose traceparent the
outputs carry; errors always exported, successes sampled by trace id (no stack needed)."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from unittest import mock

import pytest

from load.system_harness import create_booking
from pipelines.runtime import application
from pipelines.saga.app import handle, policy_from
from schemas import codec
from schemas.topics import BOOKING_COMMANDS
from tessera import tracing
from tessera.config import Settings

from .bench_tracing import PARENT, TOPIC, DictState

TRACE_ID = PARENT.decode().split("-")[1]


@pytest.fixture(autouse=True)
def fresh_tracer() -> Iterator[None]:
    tracing._tracer = None  # noqa: SLF001 - each test configures its own provider
    yield
    tracing._tracer = None  # noqa: SLF001


def run_step(value: bytes, key: bytes, headers: list[tuple[str, bytes]]) -> list[Any]:
    from functools import partial

    step = application.make_step(
        "saga", {TOPIC: BOOKING_COMMANDS}, partial(handle, policy_from(Settings()))
    )
    ctx = mock.Mock(topic=TOPIC)
    with mock.patch.object(application, "message_context", lambda: ctx):
        return step(value, key, 0, headers, DictState())


def booking() -> tuple[bytes, bytes]:
    command = create_booking(user_id="u", item_id="it", quantity=1, payment_method="pm")
    return codec.encode(command), command.booking_id.encode()


def traceparents(outputs: list[Any]) -> set[str]:
    return {dict(out.headers)["traceparent"].decode() for out in outputs}


def test_outputs_carry_a_child_of_the_incoming_traceparent() -> None:
    outputs = run_step(*booking(), [("traceparent", PARENT), ("x-correlation-id", b"c-1")])
    assert len(outputs) >= 2
    (child,) = traceparents(outputs)  # one span per record, on every output
    version, trace_id, span_id, _flags = child.split("-")
    assert (version, trace_id) == ("00", TRACE_ID)
    assert span_id != PARENT.decode().split("-")[2]
    assert all(dict(out.headers)["x-correlation-id"] == b"c-1" for out in outputs)


def test_a_record_without_trace_context_starts_a_trace() -> None:
    (root,) = traceparents(run_step(*booking(), []))
    assert tracing.parse_traceparent(root).is_valid


class Collector(ThreadingHTTPServer):
    def __init__(self) -> None:
        self.spans: list[dict[str, Any]] = []
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                for resource in body["resourceSpans"]:
                    for scope in resource["scopeSpans"]:
                        server.spans.extend(scope["spans"])
                self.send_response(200)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *_args: Any) -> None:
                return None

        super().__init__(("127.0.0.1", 0), Handler)


def test_errors_are_always_exported_successes_by_sampling(monkeypatch: pytest.MonkeyPatch) -> None:
    collector = Collector()
    threading.Thread(target=collector.serve_forever, daemon=True).start()
    monkeypatch.setenv("TESSERA_OTLP_ENDPOINT", f"http://127.0.0.1:{collector.server_port}")
    monkeypatch.setenv("TESSERA_TRACE_SAMPLE_RATIO", "0")  # no success is sampled
    try:
        run_step(*booking(), [("traceparent", PARENT)])
        rejected = run_step(b"{not json", b"k", [("traceparent", PARENT)])
        assert rejected[0].topic == "booking-commands.dlq"
        assert traceparents(rejected) != {PARENT.decode()}
        processor = tracing._tracer.span_processor  # type: ignore[union-attr] # noqa: SLF001
        processor.force_flush()
        processor.shutdown()
    finally:
        collector.shutdown()
        collector.server_close()
    (span,) = collector.spans  # the dead letter only
    assert span["traceId"] == TRACE_ID and span["status"]["code"] == 2
    assert span["parentSpanId"] == PARENT.decode().split("-")[2]
    assert span["name"] == "saga booking-commands"
