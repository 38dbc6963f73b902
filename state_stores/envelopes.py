"""Envelope fields for outputs, derived deterministically from the input that caused them.

Message ids are hashed from (processor, input id, output index) instead of drawn at random,
so reprocessing an input after a crash produces the very same ids and downstream dedupe by
message_id holds even where a stage is only at-least-once. `occurred_at` is the caller's
`now_ms`: the state machines never read a clock.
"""

from __future__ import annotations

import hashlib
from typing import TypedDict

from schemas.base import Envelope, caused_by


class EnvelopeFields(TypedDict):
    message_id: str
    correlation_id: str
    causation_id: str
    occurred_at: int


def derived_id(namespace: str, parent_id: str, index: int) -> str:
    seed = f"{namespace}/{parent_id}/{index}".encode()
    return hashlib.blake2b(seed, digest_size=16).hexdigest()


class Outbox:
    """Collects the outputs of handling one input, stamping each with its lineage."""

    __slots__ = ("cause", "messages", "namespace", "now_ms", "_issued")

    def __init__(self, cause: Envelope, now_ms: int, namespace: str) -> None:
        self.cause = cause
        self.now_ms = now_ms
        self.namespace = namespace
        self.messages: list[Envelope] = []
        self._issued = 0

    def envelope(self, occurred_at: int | None = None) -> EnvelopeFields:
        """Fields for the next output (each call issues a new message id)."""
        self._issued += 1
        lineage = caused_by(self.cause)
        return EnvelopeFields(
            message_id=derived_id(self.namespace, self.cause.message_id, self._issued),
            correlation_id=lineage["correlation_id"],
            causation_id=lineage["causation_id"],
            occurred_at=self.now_ms if occurred_at is None else occurred_at,
        )

    def emit(self, message: Envelope) -> None:
        self.messages.append(message)
