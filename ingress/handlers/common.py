"""Helpers shared by the resource handlers."""

from __future__ import annotations

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
    headers = [("x-request-id", req.request_id)]
    traceparent = req.headers.get("traceparent")
    if traceparent and len(traceparent) <= 128:
        headers.append(("traceparent", traceparent))
    return headers
