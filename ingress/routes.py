"""The route table: every endpoint, who may call it, what it takes and what it answers."""

from __future__ import annotations

from .auth.principal import ALL_ROLES, Role
from .handlers import bookings, inventory, ops, payments
from .models import (
    BookingAccepted,
    BookingPage,
    BookingView,
    CommandAccepted,
    CreateBookingRequest,
    Health,
    InventoryView,
    ListBookingsQuery,
    PaymentView,
    RefundRequest,
    SetInventoryRequest,
)
from .router import Route

USER, PARTNER, SUPPORT, ADMIN = Role.USER, Role.PARTNER, Role.SUPPORT, Role.ADMIN
B = "/api/v1/bookings"


def build_routes() -> list[Route]:
    return [
        Route("POST", B, bookings.create_booking, "createBooking", "Request a booking", "bookings",
              roles=frozenset({USER, PARTNER, ADMIN}), body=CreateBookingRequest,
              idempotency="required", prepare=bookings.prepare_create,
              ok=(202, BookingAccepted, "Accepted: the command is in Kafka"),
              errors=(409,),
              description="Answers 202 once Kafka acknowledged the command. bookingId = uuid5 of "
              "the command id, itself uuid5 of (caller, Idempotency-Key). USER books for "
              "themselves; PARTNER must and ADMIN may give userId. At most "
              "TESSERA_INGRESS_HOLDS_CAP pending bookings per user (429 HOLDS_CAP). 409 SOLD_OUT "
              "when the availability cache shows the item cannot cover the quantity."),
        Route("GET", B, bookings.list_bookings, "listBookings", "List bookings, newest first",
              "bookings", roles=frozenset({USER, SUPPORT, ADMIN}), query=ListBookingsQuery,
              ok=(200, BookingPage, "One page; pass nextCursor as cursor for the next")),
        Route("GET", B + "/{id}", bookings.get_booking, "getBooking", "A booking's status",
              "bookings", roles=ALL_ROLES, ok=(200, BookingView, "The booking"), errors=(404,)),
        Route("PUT", B + "/{id}/cancel", bookings.cancel_booking, "cancelBooking",
              "Cancel a booking", "bookings", roles=frozenset({USER, PARTNER, ADMIN}),
              idempotency="optional", ok=(202, CommandAccepted, "Cancel command accepted"),
              errors=(404, 409)),
        Route("GET", B + "/{id}/events", bookings.booking_events, "bookingEvents",
              "Live status changes (server-sent events) until a terminal status", "bookings",
              roles=ALL_ROLES, ok=(200, None, "text/event-stream: `status` events (BookingView)"),
              errors=(404,), content_type="text/event-stream"),
        Route("GET", "/api/v1/inventory/{itemId}", inventory.get_item, "getInventory",
              "Availability of an item", "inventory", roles=ALL_ROLES,
              ok=(200, InventoryView, "Availability"), errors=(404,)),
        Route("PUT", "/api/v1/inventory/{itemId}", inventory.set_item, "setInventory",
              "Set capacity and price (ADMIN)", "inventory", roles=frozenset({ADMIN}),
              body=SetInventoryRequest, idempotency="optional",
              ok=(202, CommandAccepted, "SetCapacity command accepted")),
        Route("GET", "/api/v1/payments/{id}/status", payments.payment_status, "getPayment",
              "Payment status of a booking", "payments", roles=ALL_ROLES,
              ok=(200, PaymentView, "The payment"), errors=(404,)),
        Route("POST", "/api/v1/payments/{id}/refund", payments.refund, "refundPayment",
              "Refund a booking's payment (SUPPORT, ADMIN)", "payments",
              roles=frozenset({SUPPORT, ADMIN}), body=RefundRequest, body_required=False,
              idempotency="optional", ok=(202, CommandAccepted, "Refund command accepted"),
              errors=(404,)),
        Route("GET", "/healthz", ops.healthz, "healthz", "Process alive", "ops",
              ok=(200, Health, "Alive")),
        Route("GET", "/readyz", ops.readyz, "readyz", "Kafka producer and Redis reachable", "ops",
              ok=(200, Health, "Ready"), errors=((503, Health, "Not ready: see checks"),)),
        Route("GET", "/metrics", ops.metrics, "metrics", "Prometheus metrics", "ops",
              ok=(200, None, "Prometheus text format"), content_type="text/plain"),
        Route("GET", "/openapi.json", ops.openapi, "openapi", "This document", "ops",
              ok=(200, None, "OpenAPI 3.1")),
    ]  # fmt: skip
