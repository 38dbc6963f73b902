"""Errors raised by the sinks. Each is logged with context and counted where it is caught."""

from __future__ import annotations


class SinkError(Exception):
    """Base of every error raised by sinks."""


class SinkConfigError(SinkError):
    """A sink is misconfigured or its target is not ready (e.g. a migration is missing)."""


class TransientWriteError(SinkError):
    """The target (PostgreSQL, Redis) is unavailable: pause, back off, retry the same batch."""


class OffsetCommitError(SinkError):
    """Kafka refused an offset commit; the rows are written, so a redelivery is harmless."""


class DeadLetterError(SinkError):
    """A dead letter could not be produced; the batch's offsets must not be committed."""


class DeliveryError(SinkError):
    """A notification channel failed to deliver. `retryable` says whether to try again."""

    def __init__(self, message: str, *, retryable: bool = True) -> None:
        super().__init__(message)
        self.retryable = retryable


class DeliveryTimeoutError(DeliveryError):
    """The provider did not answer in time; it may or may not have accepted the message."""


class SignatureError(SinkError):
    """A partner webhook signature is missing, malformed, stale or wrong."""
