"""The booking saga per booking: reserve → authorize → confirm → capture → notify, with
compensations registered before each action and unwound in reverse on terminal errors."""

from .decide import SagaInput, decide
from .handler import handle_saga_message
from .policy import SagaPolicy
from .state import Compensation, Phase, SagaState

__all__ = [
    "Compensation",
    "Phase",
    "SagaInput",
    "SagaPolicy",
    "SagaState",
    "decide",
    "handle_saga_message",
]
