"""Helpers shared by the resource handlers."""

from __future__ import annotations

from opentelemetry.trace import SpanKind

from tessera import tracing

from ..auth.principal import can_access
from ..exceptions import NotFound
from ..http import HttpRequest
from ..readmodel import BookingRecord
from ..services import Services


async def visible_booking(
    req: HttpRequest, svc: Services, *, admin_only: bool = False
) -> BookingRecord:
    """The booking at path {id} if the caller may see it; 404 otherwise (never 403, so a
    caller cannot probe which booking ids exist)."""
    record = await svc.reads.booking(req.params["id"])
    if record is None or not can_access(
        req.user, record.view.user_id, record.created_by, admin_only=admin_only
    ):
        raise NotFound("no such booking", code="BOOKING_NOT_FOUND")
    return record


def kafka_headers(req: HttpRequest) -> list[tuple[str, str]]:
    """The command's headers: request id and this request's trace context.

    The ingress hop is a span (a child of the client's traceparent, or a new root), so one
    booking is one trace from the HTTP request through every pipeline to the sinks.
    """
    incoming = req.headers.get("traceparent")
    parent = [("traceparent", incoming)] if incoming and len(incoming) <= 128 else []
    name = f"{req.method} {req.route.name if req.route else req.path}"
    with tracing.start_span_from_headers(name, parent, kind=SpanKind.SERVER) as span:
        headers = [("x-request-id", req.request_id), ("traceparent", span.traceparent.decode())]
        if span.tracestate:
            state = span.tracestate
            headers.append(("tracestate", state.decode() if isinstance(state, bytes) else state))
    return headers
