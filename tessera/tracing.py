"""OpenTelemetry spans per processed record, with W3C trace context in Kafka headers.

Every hop (pipeline step, payment worker, sink) opens a span whose parent is the incoming
record's `traceparent` and writes the NEW span's `traceparent` on its outputs, so one
booking is one trace from the HTTP request to the sinks.

Sampling (the seed: 100% of errors, 1% of successes): a trace is kept when its trace id
falls in TESSERA_TRACE_SAMPLE_RATIO (default 0.01) -- decided from the trace id alone, so
every process makes the same choice without coordination. With an exporter configured
(TESSERA_OTLP_ENDPOINT) every other span is recorded too and exported only if it ended in
error. With none, unsampled spans are not recorded at all: they only carry the context
(a fresh span id per hop), which costs a few microseconds per record.
"""

from __future__ import annotations

import contextvars
import os
import random
from collections.abc import Mapping, Sequence
from typing import Any

from opentelemetry import context, trace
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.sampling import Decision, Sampler, SamplingResult
from opentelemetry.trace import (
    NonRecordingSpan,
    SpanContext,
    SpanKind,
    Status,
    StatusCode,
    TraceFlags,
    TraceState,
)

TRACEPARENT = "traceparent"
TRACESTATE = "tracestate"
Headers = list[tuple[str, bytes]]
_EMPTY = context.Context()
_tracer: trace.Tracer | None = None
_recording = False  # an exporter is configured: every span is recorded (errors are exported)
_bound = 0  # traces whose low 64 trace-id bits fall below this are sampled


class ErrorsAndRatioSampler(Sampler):
    """Sample `ratio` of traces by trace id; record the rest only when errors can be exported."""

    def __init__(self, ratio: float, record_unsampled: bool) -> None:
        self.bound = round(max(0.0, min(1.0, ratio)) * (2**64 - 1))
        self.other = Decision.RECORD_ONLY if record_unsampled else Decision.DROP

    def should_sample(
        self,
        parent_context: context.Context | None,
        trace_id: int,
        name: str,
        kind: SpanKind | None = None,
        attributes: Any = None,
        links: Any = None,
        trace_state: TraceState | None = None,
    ) -> SamplingResult:
        state = trace.get_current_span(parent_context).get_span_context().trace_state
        keep = (trace_id & 0xFFFFFFFFFFFFFFFF) < self.bound
        return SamplingResult(Decision.RECORD_AND_SAMPLE if keep else self.other, None, state)

    def get_description(self) -> str:
        return f"ErrorsAndRatioSampler({self.bound / (2**64 - 1):.4f})"


def setup(service: str) -> trace.Tracer:
    """The process's tracer (the first call names the service; later calls reuse it)."""
    global _tracer, _recording, _bound
    if _tracer is None:
        endpoint = os.environ.get("TESSERA_OTLP_ENDPOINT", "")
        ratio = float(os.environ.get("TESSERA_TRACE_SAMPLE_RATIO", "0.01"))
        sampler = ErrorsAndRatioSampler(ratio, record_unsampled=bool(endpoint))
        _recording, _bound = bool(endpoint), sampler.bound
        provider = TracerProvider(
            sampler=sampler,
            resource=Resource.create({"service.name": f"tessera-{service}"}),
            shutdown_on_exit=True,
        )
        if endpoint:
            from tessera.ops.otlp import ErrorsOrSampledProcessor, OtlpJsonExporter

            provider.add_span_processor(ErrorsOrSampledProcessor(OtlpJsonExporter(endpoint)))
        _tracer = provider.get_tracer("tessera")
    return _tracer


def parse_traceparent(value: bytes | str | None, state: bytes | str | None = None) -> SpanContext:
    """The remote parent a traceparent names (invalid: an INVALID_SPAN_CONTEXT)."""
    parts = text(value).strip().split("-")
    try:
        if len(parts) < 4 or parts[0] == "ff" or len(parts[1]) != 32 or len(parts[2]) != 16:
            raise ValueError(value)
        trace_id, span_id, flags = int(parts[1], 16), int(parts[2], 16), int(parts[3][:2], 16)
    except ValueError:
        return trace.INVALID_SPAN_CONTEXT
    raw_state = text(state)
    trace_state = TraceState.from_header([raw_state]) if raw_state else None
    return SpanContext(trace_id, span_id, True, TraceFlags(flags), trace_state)


def header(headers: Sequence[tuple[str, Any]] | None, name: str) -> Any:
    for key, value in headers or ():
        if key == name:
            return value
    return None


def text(value: bytes | str | None) -> str:
    return value.decode(errors="replace") if isinstance(value, bytes) else (value or "")


class start_span_from_headers:  # noqa: N801 - used like a function: `with start_span_...(...)`
    """A span for one record, child of the record's traceparent (or a new root trace).

    `traceparent` is what this hop's outputs carry. Fast path: a trace that is neither
    sampled nor exportable gets no SDK span at all, only a fresh span id (the context still
    propagates); otherwise the SDK records a real span, current while the block runs.
    """

    __slots__ = ("span", "trace_id", "traceparent", "tracestate", "_token", "_otel_token")

    def __init__(
        self,
        name: str,
        headers: Sequence[tuple[str, Any]] | None,
        attributes: Mapping[str, Any] | None = None,
        kind: SpanKind = SpanKind.CONSUMER,
    ) -> None:
        tracer = _tracer or setup("tessera")
        parent, self.tracestate = "", None
        for key, value in headers or ():  # inlined: this runs once per record
            if key == TRACEPARENT:
                parent = value.decode(errors="replace") if isinstance(value, bytes) else value
            elif key == TRACESTATE:
                self.tracestate = value
        valid = len(parent) == 55 and parent[:3] == "00-" and parent[35] == "-"
        self.trace_id = parent[3:35] if valid else "%032x" % random.getrandbits(128)  # noqa: S311, UP031
        if not _recording and int(self.trace_id[16:], 16) >= _bound:
            span_id = "%016x" % random.getrandbits(64)  # noqa: S311, UP031
            self.traceparent = f"00-{self.trace_id}-{span_id}-00".encode()
            self.span: trace.Span = trace.INVALID_SPAN
            return
        remote = parse_traceparent(parent, self.tracestate) if valid else None
        ctx = trace.set_span_in_context(NonRecordingSpan(remote)) if remote else _EMPTY
        self.span = tracer.start_span(name, ctx, kind)
        if attributes and self.span.is_recording():
            self.span.set_attributes(attributes)
        span_context = self.span.get_span_context()
        self.trace_id = f"{span_context.trace_id:032x}"
        self.traceparent = traceparent_of(span_context)
        state = span_context.trace_state
        self.tracestate = state.to_header().encode() if state else None

    def __enter__(self) -> start_span_from_headers:
        self._token = _CURRENT.set(self)
        self._otel_token = (
            context.attach(trace.set_span_in_context(self.span))
            if self.span is not trace.INVALID_SPAN
            else None
        )
        return self

    def __exit__(self, kind: Any, error: Any, _tb: Any) -> None:
        _CURRENT.reset(self._token)
        if self._otel_token is None:
            return
        context.detach(self._otel_token)
        if error is not None and self.span.is_recording():
            self.span.record_exception(error)
            self.span.set_status(Status(StatusCode.ERROR, f"{kind.__name__}: {error}"[:200]))
        self.span.end()


_CURRENT: contextvars.ContextVar[start_span_from_headers | None] = contextvars.ContextVar(
    "tessera_record_span", default=None
)


def current_trace_id() -> str:
    """The trace id of the record being handled here (for log lines), or ''."""
    record = _CURRENT.get()
    if record is not None:
        return record.trace_id
    span_context = trace.get_current_span().get_span_context()
    return f"{span_context.trace_id:032x}" if span_context.is_valid else ""


def current_span() -> start_span_from_headers | trace.Span:
    return _CURRENT.get() or trace.get_current_span()


def mark_error(span: start_span_from_headers | trace.Span | None, description: str) -> None:
    """An outcome that is an error without an exception (a dead letter): always exported."""
    otel = span.span if isinstance(span, start_span_from_headers) else span
    if otel is not None and otel.is_recording():
        otel.set_status(Status(StatusCode.ERROR, description[:200]))


def traceparent_of(span_context: SpanContext) -> bytes:
    return (
        f"00-{span_context.trace_id:032x}-{span_context.span_id:016x}-"
        f"{int(span_context.trace_flags) & 0xFF:02x}"
    ).encode()


def inject(headers: Headers, span: start_span_from_headers | trace.Span | None = None) -> Headers:
    """Put the given (or current) span's trace context on `headers`, in place; returns them."""
    span = span or current_span()
    if isinstance(span, start_span_from_headers):
        value, state = span.traceparent, span.tracestate
    else:
        span_context = span.get_span_context()
        if not span_context.is_valid:
            return headers
        value, state = traceparent_of(span_context), span_context.trace_state
        state = state.to_header().encode() if state else None
    headers[:] = [(k, v) for k, v in headers if k != TRACEPARENT and k != TRACESTATE]
    headers.append((TRACEPARENT, value))
    if state:
        headers.append((TRACESTATE, state if isinstance(state, bytes) else state.encode()))
    return headers
