"""Errors raised by the state machines. Each means a bug or bad data, never a business outcome:
business outcomes (sold out, declined) are messages, not exceptions."""


class StateStoreError(Exception):
    """Base of every error raised by state_stores."""


class CorruptStateError(StateStoreError):
    """A stored record could not be decoded as the type it should hold."""


class MisroutedMessageError(StateStoreError):
    """A message reached the state of a key it does not belong to (a routing bug upstream)."""


class InvalidPolicyError(StateStoreError):
    """A policy was configured with values the state machine cannot work with."""
