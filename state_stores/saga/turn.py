"""One call of the saga's decide: the input, the clock, the policy, and the outputs so far."""

from __future__ import annotations

from schemas.base import Envelope

from ..envelopes import Outbox
from .policy import SagaPolicy

NAMESPACE = "saga"


class SagaTurn(Outbox):
    __slots__ = ("policy",)

    def __init__(self, cause: Envelope, now_ms: int, policy: SagaPolicy) -> None:
        super().__init__(cause, now_ms, NAMESPACE)
        self.policy = policy
