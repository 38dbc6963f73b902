"""/api/v1/bookings: create (202 after the Kafka ack), read, list, cancel, live events."""

from __future__ import annotations

import contextlib
from typing import NamedTuple

from schemas.base import TERMINAL_STATUSES, BookingStatus
from schemas.booking_commands import CancelBooking, CreateBooking
from schemas.codec import encode
from schemas.command_ids import action_id, booking_id_for, command_id
from sinks.cache_contract import availability_key, open_holds_key, push_channel

from ..admission import Hold
from ..auth.principal import Role
from ..exceptions import Conflict, Forbidden, Unprocessable
from ..http import HttpRequest, HttpResponse, json_response, path
from ..models import BookingAccepted, BookingPage, CommandAccepted, CreateBookingRequest
from ..services import Services
from ..sse import status_stream
from ..views import CachedBooking
from .common import kafka_headers, visible_booking

_ON_BEHALF = (Role.PARTNER, Role.ADMIN)


class CreatePlan(NamedTuple):
    user_id: str
    message_id: str
    booking_id: str


def prepare_create(req: HttpRequest, svc: Services) -> Hold:
    """Before admission: role rules on fields, the ids, and the open-holds slot to take."""
    body: CreateBookingRequest = req.body
    principal = req.user
    for name, value in (("userId", body.user_id), ("webhookUrl", body.webhook_url)):
        if value is not None and not principal.has(*_ON_BEHALF):
            raise Forbidden(
                f"{name} may only be set by PARTNER or ADMIN", code="FIELD_NOT_ALLOWED", field=name
            )
    if body.user_id is None and not principal.has(Role.USER, Role.ADMIN):
        raise Unprocessable(
            "a PARTNER books on behalf of a userId", code="USER_ID_REQUIRED", field="userId"
        )
    message_id = command_id(principal.sub, req.idempotency_key or "")
    plan = CreatePlan(body.user_id or principal.sub, message_id, booking_id_for(message_id))
    req.state = plan
    stock_key = (
        availability_key(svc.prefix, body.item_id) if svc.config.limits.sold_out_gate else ""
    )
    return Hold(open_holds_key(svc.prefix, plan.user_id), plan.booking_id, stock_key, body.quantity)


async def create_booking(req: HttpRequest, svc: Services) -> HttpResponse:
    """Produce CreateBooking; 202 once Kafka acknowledged it. Admission took the hold."""
    body: CreateBookingRequest = req.body
    plan: CreatePlan = req.state
    command = CreateBooking(
        message_id=plan.message_id,
        correlation_id=plan.message_id,
        booking_id=plan.booking_id,
        user_id=plan.user_id,
        item_id=body.item_id,
        quantity=body.quantity,
        payment_method=body.payment_method,
        channel="HTTP",
        requested_by=req.user.sub,
        contact_email=body.contact_email or "",
        contact_phone=body.contact_phone or "",
        webhook_url=body.webhook_url or "",
    )
    await svc.producer.send(
        svc.topics.booking_commands, plan.booking_id, encode(command), kafka_headers(req)
    )
    accepted = CachedBooking(
        booking_id=plan.booking_id, user_id=plan.user_id, item_id=body.item_id,
        quantity=body.quantity, status=BookingStatus.PENDING, created_at=command.occurred_at,
        updated_at=command.occurred_at, requested_by=req.user.sub,
    )  # fmt: skip
    req.writes.append(svc.reads.accepted_write(accepted))  # stored together with the response
    location = "/api/v1/bookings/" + plan.booking_id  # a UUID we minted: nothing to encode
    return json_response(202, BookingAccepted(booking_id=plan.booking_id), {"Location": location})


async def get_booking(req: HttpRequest, svc: Services) -> HttpResponse:
    record = await visible_booking(req, svc)
    return json_response(200, record.view)


async def list_bookings(req: HttpRequest, svc: Services) -> HttpResponse:
    principal, query = req.user, req.query
    user_id = query.user_id
    if not principal.privileged:
        if user_id is not None and user_id != principal.sub:
            raise Forbidden(
                "a USER lists only their own bookings", code="FIELD_NOT_ALLOWED", field="userId"
            )
        user_id = principal.sub
    items, cursor = await svc.reads.list_bookings(user_id, query.status, query.limit, query.cursor)
    return json_response(200, BookingPage(items=items, next_cursor=cursor))


async def cancel_booking(req: HttpRequest, svc: Services) -> HttpResponse:
    principal = req.user
    record = await visible_booking(req, svc, admin_only=True)
    if record.view.status in TERMINAL_STATUSES:
        raise Conflict(f"booking is already {record.view.status}", code="BOOKING_TERMINAL")
    booking_id = record.view.booking_id
    command = CancelBooking(
        message_id=action_id("cancel", principal.sub, booking_id, req.idempotency_key),
        booking_id=booking_id,
        requested_by=principal.sub,
    )
    await svc.producer.send(
        svc.topics.booking_commands, booking_id, encode(command), kafka_headers(req)
    )
    accepted = CommandAccepted(command_id=command.message_id, booking_id=booking_id)
    return json_response(202, accepted, {"Location": path("/api/v1/bookings/{}", booking_id)})


async def booking_events(req: HttpRequest, svc: Services) -> HttpResponse:
    await visible_booking(req, svc)  # 404 before subscribing to anything
    channel = push_channel(svc.prefix, req.params["id"])
    queue = await svc.hub.subscribe(channel)

    @contextlib.asynccontextmanager
    async def release():  # type: ignore[no-untyped-def]
        try:
            yield
        finally:
            await svc.hub.unsubscribe(channel, queue)

    try:  # read again after subscribing, so no change between the two is lost
        record = await visible_booking(req, svc)
    except BaseException:
        await svc.hub.unsubscribe(channel, queue)
        raise
    backend = svc.config.backend
    return status_stream(
        record.view, queue, release(), backend.sse_heartbeat_s, backend.sse_max_duration_s
    )
