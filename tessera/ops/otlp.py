"""A small OTLP/HTTP exporter (JSON encoding, stdlib only) and the processor that feeds it.

Used by tessera.tracing only when TESSERA_OTLP_ENDPOINT is set (e.g. an OpenTelemetry
Collector's `http://host:4318`). The processor exports sampled spans and every span that
ended in error (the seed's "100% errors"), in batches from a background thread; the
per-record cost on the hot path is one deque append.
"""

from __future__ import annotations

import json
import logging
import threading
import urllib.request
from collections import deque
from collections.abc import Sequence
from typing import Any

from opentelemetry.sdk.trace import ReadableSpan, SpanProcessor
from opentelemetry.trace import StatusCode

logger = logging.getLogger(__name__)
MAX_QUEUE = 4096
BATCH = 512


def _value(value: Any) -> dict[str, Any]:
    if isinstance(value, bool):
        return {"boolValue": value}
    if isinstance(value, int):
        return {"intValue": str(value)}
    if isinstance(value, float):
        return {"doubleValue": value}
    return {"stringValue": str(value)}


def _attributes(attributes: Any) -> list[dict[str, Any]]:
    return [{"key": k, "value": _value(v)} for k, v in (attributes or {}).items()]


def encode(spans: Sequence[ReadableSpan]) -> bytes:
    """OTLP/JSON ExportTraceServiceRequest: hex ids, enum kinds shifted as the proto says."""
    by_resource: dict[int, tuple[Any, list[dict[str, Any]]]] = {}
    for span in spans:
        ctx, parent = span.context, span.parent
        entry = {
            "traceId": f"{ctx.trace_id:032x}",
            "spanId": f"{ctx.span_id:016x}",
            "parentSpanId": f"{parent.span_id:016x}" if parent else "",
            "name": span.name,
            "kind": span.kind.value + 1,
            "startTimeUnixNano": str(span.start_time),
            "endTimeUnixNano": str(span.end_time),
            "attributes": _attributes(span.attributes),
            "status": {
                "code": span.status.status_code.value,
                "message": span.status.description or "",
            },
        }
        by_resource.setdefault(id(span.resource), (span.resource, []))[1].append(entry)
    return json.dumps(
        {
            "resourceSpans": [
                {
                    "resource": {"attributes": _attributes(resource.attributes)},
                    "scopeSpans": [{"scope": {"name": "tessera"}, "spans": entries}],
                }
                for resource, entries in by_resource.values()
            ]
        }
    ).encode()


class OtlpJsonExporter:
    def __init__(self, endpoint: str, timeout_s: float = 3.0) -> None:
        self.url = endpoint.rstrip("/") + ("" if endpoint.endswith("/v1/traces") else "/v1/traces")
        self.timeout_s = timeout_s

    def export(self, spans: Sequence[ReadableSpan]) -> None:
        request = urllib.request.Request(  # noqa: S310 - an operator-configured collector URL
            self.url, data=encode(spans), headers={"Content-Type": "application/json"}
        )
        with urllib.request.urlopen(request, timeout=self.timeout_s) as response:  # noqa: S310
            response.read()


class ErrorsOrSampledProcessor(SpanProcessor):
    """Queue sampled and failed spans; a daemon thread exports them every second."""

    def __init__(self, exporter: OtlpJsonExporter, interval_s: float = 1.0) -> None:
        self.exporter = exporter
        self.interval_s = interval_s
        self.queue: deque[ReadableSpan] = deque(maxlen=MAX_QUEUE)
        self._wake = threading.Event()
        self._lock = threading.Lock()
        self._stopped = False
        self._thread = threading.Thread(target=self._run, name="otlp-export", daemon=True)
        self._thread.start()

    def on_end(self, span: ReadableSpan) -> None:
        if span.context.trace_flags.sampled or span.status.status_code is StatusCode.ERROR:
            self.queue.append(span)

    def _run(self) -> None:
        while not self._stopped:
            self._wake.wait(self.interval_s)
            self._wake.clear()
            self.force_flush()

    def force_flush(self, timeout_millis: int = 30000) -> bool:
        with self._lock:
            while self.queue:
                batch = [self.queue.popleft() for _ in range(min(BATCH, len(self.queue)))]
                try:
                    self.exporter.export(batch)
                except (OSError, ValueError) as exc:
                    extra = {"spans": len(batch), "error": str(exc)}
                    logger.warning("span export failed", extra=extra)
                    return False
            return True

    def shutdown(self) -> None:
        self._stopped = True
        self._wake.set()
        self._thread.join(5)
        self.force_flush()
