from __future__ import annotations

import dataclasses

import pytest

from pipelines.payments.gateways import GatewayResult, idempotency_key


def test_idempotency_key_is_deterministic_per_booking_and_step() -> None:
    assert idempotency_key("b-1", "CAPTURE") == idempotency_key("b-1", "CAPTURE")
    assert idempotency_key("b-1", "CAPTURE") == "tessera:b-1:CAPTURE"
    keys = {idempotency_key(b, op) for b in ("b-1", "b-2") for op in ("AUTHORIZE", "CAPTURE")}
    assert len(keys) == 4


def test_attempt_scope_separates_deliberate_repeats() -> None:
    first = idempotency_key("b-1", "REFUND", "partial-1")
    assert first == "tessera:b-1:REFUND:partial-1"
    assert first != idempotency_key("b-1", "REFUND", "partial-2")
    assert first != idempotency_key("b-1", "REFUND")


def test_idempotency_key_needs_a_booking() -> None:
    with pytest.raises(ValueError):
        idempotency_key("", "AUTHORIZE")


def test_gateway_result_is_frozen() -> None:
    result = GatewayResult("SUCCEEDED", gateway_ref="pi_1")
    assert result.succeeded and not result.retryable
    with pytest.raises(dataclasses.FrozenInstanceError):
        result.outcome = "FAILED"  # type: ignore[misc]
