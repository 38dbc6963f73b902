"""Deterministic command and booking ids: the dedupe key space HTTP and Kafka partners share.

Part of the booking-commands contract (partners derive ids the same way).

    message_id = uuid5(COMMAND_NAMESPACE, f"{principal}\\n{idempotency_key}")
    booking_id = uuid5(BOOKING_NAMESPACE, message_id)

The HTTP ingress derives message_id from the caller (JWT `sub`) and its Idempotency-Key;
a partner producing straight to booking-commands picks a message_id (it may derive it the
same way from its own sub and key) and MUST set booking_id = booking_id_for(message_id).
The saga dead-letters a CreateBooking whose booking_id is not booking_id_for(message_id)
(so nobody picks booking ids), and dedupes CreateBooking by booking_id, so one command
sent over HTTP and over Kafka, or retried after an ambiguous failure, books once.
"""

from __future__ import annotations

import hashlib
import uuid

COMMAND_NAMESPACE = uuid.UUID("6f1f3c1e-4a55-5b0e-9d53-746573736572")
BOOKING_NAMESPACE = uuid.UUID("a2b6d0f4-1c8e-5f7a-8b3d-626f6f6b696e")


_COMMAND_NS, _BOOKING_NS = COMMAND_NAMESPACE.bytes, BOOKING_NAMESPACE.bytes


def _uuid5(namespace: bytes, name: str) -> str:
    """str(uuid.uuid5(...)) without building UUID objects (twice per HTTP create)."""
    digest = bytearray(hashlib.sha1(namespace + name.encode(), usedforsecurity=False).digest())
    digest[6] = (digest[6] & 0x0F) | 0x50  # version 5
    digest[8] = (digest[8] & 0x3F) | 0x80  # RFC 4122 variant
    h = digest[:16].hex()
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"


def command_id(principal: str, idempotency_key: str) -> str:
    return _uuid5(_COMMAND_NS, f"{principal}\n{idempotency_key}")


def booking_id_for(message_id: str) -> str:
    return _uuid5(_BOOKING_NS, message_id)


def action_id(kind: str, principal: str, target: str, idempotency_key: str | None) -> str:
    """message_id of a cancel/refund/set-capacity command: stable per key when one is given."""
    if idempotency_key is None:
        return uuid.uuid4().hex
    name = f"{kind}\n{principal}\n{target}\n{idempotency_key}"
    return str(uuid.uuid5(COMMAND_NAMESPACE, name))
