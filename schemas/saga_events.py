"""saga-events (key bookingId): every saga step started, finished or compensated.

The audit trail behind saga_instances / saga_steps, and the operator's funnel.
"""

from __future__ import annotations

from typing import Literal

import msgspec

from .base import Envelope

StepAction = Literal["ACTION", "COMPENSATION"]
StepStatus = Literal["STARTED", "SUCCEEDED", "FAILED", "RETRYING", "SKIPPED"]


class SagaStepChanged(Envelope, frozen=True, tag="SagaStepChanged"):
    booking_id: str
    saga_state: str
    step: str
    action: StepAction
    status: StepStatus
    attempt: int
    version: int
    detail: str = ""


SagaEvent = SagaStepChanged
DECODER: msgspec.json.Decoder[SagaEvent] = msgspec.json.Decoder(SagaEvent)
