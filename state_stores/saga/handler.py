"""The thin shell the saga pipeline calls per message: load, decide, store."""

from __future__ import annotations

from schemas.base import Envelope

from ..base import KeyValueStore
from .decide import SagaInput, decide
from .policy import SagaPolicy
from .state import load_saga, save_saga

DEFAULT_POLICY = SagaPolicy()


def handle_saga_message(
    store: KeyValueStore, message: SagaInput, now_ms: int, policy: SagaPolicy = DEFAULT_POLICY
) -> list[Envelope]:
    """Apply one message to the booking's saga (store scoped to message.booking_id).

    Returns the messages to produce, in order; route each with `state_stores.routing.route`.
    """
    state = load_saga(store)
    new_state, outputs = decide(state, message, now_ms, policy)
    if new_state is not None and new_state is not state:
        save_saga(store, new_state)
    return outputs
