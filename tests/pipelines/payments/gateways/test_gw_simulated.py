from __future__ import annotations

import asyncio
import time
from functools import partial

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pipelines.payments.gateways import GatewayConfigError, idempotency_key
from pipelines.payments.gateways.ledger import PaymentLedger
from pipelines.payments.gateways.simulated import SimulatedGateway, SimulatedGatewayConfig


async def authorize(
    gw: SimulatedGateway, booking: str, pm: str = "pm_card_visa", amount: int = 5000
):
    return await gw.authorize(
        booking_id=booking,
        amount_minor=amount,
        currency="USD",
        payment_method=pm,
        idempotency_key=idempotency_key(booking, "AUTHORIZE"),
    )


@pytest.mark.parametrize(
    ("pm", "outcome", "code", "retryable"),
    [
        ("pm_card_visa", "SUCCEEDED", None, False),
        ("pm_card_chargeDeclined", "DECLINED", "card_declined", False),
        ("pm_card_chargeDeclinedInsufficientFunds", "DECLINED", "insufficient_funds", False),
        ("pm_card_5xx", "FAILED", None, True),
        ("pm_card_doesNotExist", "FAILED", None, False),
    ],
)
def test_test_payment_methods(pm: str, outcome: str, code: str | None, retryable: bool) -> None:
    result = asyncio.run(authorize(SimulatedGateway(), "b-1", pm))
    assert (result.outcome, result.decline_code, result.retryable) == (outcome, code, retryable)
    if pm == "pm_card_5xx":
        assert result.detail == "HTTP 500"
    if outcome != "FAILED":
        assert result.gateway_ref and result.gateway_ref.startswith("sim_pi_")


def test_timeout_card_authorizes_never_answers_then_replays_the_outcome() -> None:
    gw = SimulatedGateway(SimulatedGatewayConfig(timeout_hangs=1))

    async def scenario() -> None:
        with pytest.raises(TimeoutError):
            await asyncio.wait_for(authorize(gw, "b-1", "pm_card_timeout"), 0.05)
        # The money moved although the caller never heard; the same key learns it.
        replay = await asyncio.wait_for(authorize(gw, "b-1", "pm_card_timeout"), 0.5)
        assert replay.succeeded and replay.gateway_ref

    asyncio.run(scenario())
    assert gw.audit()["b-1"]["authorizations"] == 1


def test_slow_card_answers_after_slow_ms() -> None:
    gw = SimulatedGateway(SimulatedGatewayConfig(slow_ms=100))
    started = time.perf_counter()
    result = asyncio.run(authorize(gw, "b-1", "pm_card_slow"))
    assert result.succeeded
    assert time.perf_counter() - started >= 0.1


def test_same_key_replays_the_first_answer_without_a_second_effect() -> None:
    gw = SimulatedGateway()

    async def scenario() -> None:
        first = await authorize(gw, "b-1")
        assert await authorize(gw, "b-1") == first
        key = idempotency_key("b-1", "CAPTURE")
        ref = first.gateway_ref
        assert ref
        captured = await gw.capture(gateway_ref=ref, amount_minor=5000, idempotency_key=key)
        again = await gw.capture(gateway_ref=ref, amount_minor=5000, idempotency_key=key)
        assert captured == again and captured.succeeded

    asyncio.run(scenario())
    audit = gw.audit()["b-1"]
    assert (audit["authorizations"], audit["captures"]) == (1, 1)


def test_concurrent_calls_with_one_key_have_one_effect() -> None:
    gw = SimulatedGateway(SimulatedGatewayConfig(latency_ms=5, latency_jitter_ms=5, seed=1))

    async def scenario() -> set[str | None]:
        results = await asyncio.gather(*(authorize(gw, "b-1") for _ in range(10)))
        return {r.gateway_ref for r in results}

    assert len(asyncio.run(scenario())) == 1
    assert gw.audit()["b-1"]["authorizations"] == 1


def test_reusing_a_key_with_other_parameters_is_refused() -> None:
    gw = SimulatedGateway()

    async def scenario() -> None:
        await authorize(gw, "b-1", amount=5000)
        other = await authorize(gw, "b-1", amount=9999)
        assert other.outcome == "FAILED" and not other.retryable
        assert other.detail.startswith("idempotency_key_reused")

    asyncio.run(scenario())
    assert gw.audit()["b-1"]["authorizations"] == 1


def test_ledger_rules() -> None:
    gw = SimulatedGateway()

    async def scenario() -> None:
        ref = (await authorize(gw, "b-1", amount=5000)).gateway_ref
        assert ref
        over = await gw.capture(gateway_ref=ref, amount_minor=5001, idempotency_key="c0")
        assert over.outcome == "FAILED" and over.detail.startswith("amount_too_large")
        assert (
            await gw.capture(gateway_ref=ref, amount_minor=4000, idempotency_key="c1")
        ).succeeded
        twice = await gw.capture(gateway_ref=ref, amount_minor=4000, idempotency_key="c2")
        assert twice.outcome == "FAILED" and twice.detail.startswith("already_captured")
        late_void = await gw.void(gateway_ref=ref, idempotency_key="v1")
        assert late_void.outcome == "FAILED" and not late_void.retryable
        too_much = await gw.refund(gateway_ref=ref, amount_minor=4001, idempotency_key="r0")
        assert too_much.outcome == "FAILED"
        assert (await gw.refund(gateway_ref=ref, amount_minor=1000, idempotency_key="r1")).succeeded
        assert await gw.status(gateway_ref=ref) == "CAPTURED"
        assert (await gw.refund(gateway_ref=ref, amount_minor=3000, idempotency_key="r2")).succeeded
        assert await gw.status(gateway_ref=ref) == "REFUNDED"

        voided = (await authorize(gw, "b-2")).gateway_ref
        assert voided
        assert (await gw.void(gateway_ref=voided, idempotency_key="v2")).succeeded
        after = await gw.capture(gateway_ref=voided, amount_minor=1, idempotency_key="c3")
        assert after.outcome == "FAILED" and not after.retryable
        assert "VOIDED" in after.detail
        assert await gw.status(gateway_ref="sim_pi_nope") == "NOT_FOUND"
        missing = await gw.capture(gateway_ref="sim_pi_nope", amount_minor=1, idempotency_key="c4")
        assert missing.detail.startswith("resource_missing")

    asyncio.run(scenario())
    audit = gw.audit()
    assert audit["b-1"] | {"payments": None} == {
        "authorizations": 1,
        "declines": 0,
        "captures": 1,
        "voids": 0,
        "refunds": 2,
        "payments": None,
    }
    (payment,) = audit["b-1"]["payments"].values()
    assert payment == {
        "state": "REFUNDED",
        "currency": "USD",
        "authorized_minor": 5000,
        "captured_minor": 4000,
        "refunded_minor": 4000,
    }
    assert audit["b-2"]["voids"] == 1 and audit["b-2"]["captures"] == 0


def test_declines_are_recorded_but_are_not_authorizations() -> None:
    gw = SimulatedGateway()
    asyncio.run(authorize(gw, "b-1", "pm_card_chargeDeclined"))
    audit = gw.audit()["b-1"]
    assert (audit["authorizations"], audit["declines"]) == (0, 1)
    assert [p["state"] for p in audit["payments"].values()] == ["DECLINED"]


def test_injected_failures_have_no_side_effect() -> None:
    gw = SimulatedGateway(SimulatedGatewayConfig(failure_rate=1.0))
    result = asyncio.run(authorize(gw, "b-1"))
    assert (result.outcome, result.retryable, result.detail) == ("FAILED", True, "HTTP 500")
    assert gw.audit() == {}


def test_injected_timeout_moves_money_then_loses_the_answer() -> None:
    gw = SimulatedGateway(SimulatedGatewayConfig(timeout_rate=1.0))

    async def scenario() -> None:
        with pytest.raises(TimeoutError):
            await asyncio.wait_for(authorize(gw, "b-1"), 0.05)

    asyncio.run(scenario())
    assert gw.audit()["b-1"]["authorizations"] == 1


def test_seeded_faults_are_reproducible() -> None:
    def outcomes() -> list[str]:
        gw = SimulatedGateway(SimulatedGatewayConfig(failure_rate=0.5, seed=42))

        async def scenario() -> list[str]:
            return [(await authorize(gw, f"b-{i}")).outcome for i in range(40)]

        return asyncio.run(scenario())

    first = outcomes()
    assert first == outcomes()
    assert 5 < first.count("FAILED") < 35


def test_config_validation_and_env() -> None:
    with pytest.raises(GatewayConfigError):
        SimulatedGatewayConfig(failure_rate=1.5)
    with pytest.raises(GatewayConfigError):
        SimulatedGatewayConfig(latency_ms=-1)
    env = {
        "TESSERA_SIM_LATENCY_MS": "7.5",
        "TESSERA_SIM_FAILURE_RATE": "0.1",
        "TESSERA_SIM_TIMEOUT_RATE": "0.2",
        "TESSERA_SIM_SEED": "3",
    }
    config = SimulatedGatewayConfig.from_env(env)
    assert (config.latency_ms, config.failure_rate, config.timeout_rate, config.seed) == (
        7.5,
        0.1,
        0.2,
        3,
    )
    assert SimulatedGatewayConfig.from_env({}) == SimulatedGatewayConfig()


_ops = st.lists(
    st.tuples(
        st.sampled_from(["authorize", "capture", "void", "refund"]),
        st.integers(0, 3),  # payment index
        st.integers(-5, 120),  # amount
        st.integers(0, 4),  # idempotency key suffix: small, so keys get reused
    ),
    max_size=60,
)


@settings(max_examples=150, deadline=None)
@given(_ops)
def test_ledger_never_moves_more_money_than_authorized(
    ops: list[tuple[str, int, int, int]],
) -> None:
    ledger = PaymentLedger()
    for name, index, amount, suffix in ops:
        ref = f"p{index}"
        if name == "authorize":
            apply = partial(ledger.authorize, ref, f"b{index}", amount, "USD")
        elif name == "void":
            apply = partial(ledger.void, ref)
        else:
            apply = partial(getattr(ledger, name), ref, amount)
        ledger.execute(f"{name}:{ref}:{suffix}", (name, ref, amount), apply)
    for payment in ledger.payments.values():
        assert 0 <= payment.refunded_minor <= payment.captured_minor <= payment.authorized_minor
    for counts in ledger.effects.values():
        assert counts["captures"] <= counts["authorizations"]
        assert counts["voids"] + counts["captures"] <= counts["authorizations"]
