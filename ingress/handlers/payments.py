"""/api/v1/payments/{id} (id = bookingId): payment status; SUPPORT/ADMIN refunds."""

from __future__ import annotations

from schemas.booking_commands import RefundBooking
from schemas.codec import encode
from schemas.command_ids import action_id

from ..exceptions import NotFound
from ..http import HttpRequest, HttpResponse, json_response, path
from ..models import CommandAccepted, RefundRequest
from ..services import Services
from .common import kafka_headers, visible_booking


async def payment_status(req: HttpRequest, svc: Services) -> HttpResponse:
    if not req.user.privileged:
        await visible_booking(req, svc)  # a USER or PARTNER sees only their bookings' payments
    payment = await svc.reads.payment(req.params["id"])
    if payment is None:
        raise NotFound("no payment for this booking", code="PAYMENT_NOT_FOUND")
    return json_response(200, payment)


async def refund(req: HttpRequest, svc: Services) -> HttpResponse:
    record = await visible_booking(req, svc)
    body: RefundRequest = req.body or RefundRequest()
    booking_id = record.view.booking_id
    command = RefundBooking(
        message_id=action_id("refund", req.user.sub, booking_id, req.idempotency_key),
        booking_id=booking_id,
        requested_by=req.user.sub,
        reason=body.reason,
    )
    await svc.producer.send(
        svc.topics.booking_commands, booking_id, encode(command), kafka_headers(req)
    )
    accepted = CommandAccepted(command_id=command.message_id, booking_id=booking_id)
    return json_response(
        202, accepted, {"Location": path("/api/v1/payments/{}/status", booking_id)}
    )
