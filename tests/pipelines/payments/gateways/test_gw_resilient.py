from __future__ import annotations

import asyncio
import time

import pytest
from prometheus_client import REGISTRY

from pipelines.payments.gateways import (
    GatewayRequestError,
    GatewayUnavailableError,
    ResilienceConfig,
    ResilientGateway,
    idempotency_key,
)
from pipelines.payments.gateways.circuit_breaker import BreakerState
from pipelines.payments.gateways.simulated import SimulatedGateway, SimulatedGatewayConfig

from .fakes import DECLINED, OK, REFUSED, TRANSIENT, FakeClock, ScriptedGateway

FAST = ResilienceConfig(timeout_s=1.0, backoff_base_s=0.001, backoff_max_s=0.002)


def resilient(inner, config: ResilienceConfig = FAST, **kwargs) -> ResilientGateway:
    return ResilientGateway(inner, config, **kwargs)


async def capture(gw: ResilientGateway, booking: str = "b-1"):
    return await gw.capture(
        gateway_ref="pi_1", amount_minor=100, idempotency_key=idempotency_key(booking, "CAPTURE")
    )


def test_retries_reuse_the_same_key_and_stop_after_three_attempts() -> None:
    inner = ScriptedGateway().then([TRANSIENT])
    result = asyncio.run(capture(resilient(inner)))
    assert result == TRANSIENT
    assert [c.idempotency_key for c in inner.calls] == ["tessera:b-1:CAPTURE"] * 3


def test_a_retry_can_succeed() -> None:
    inner = ScriptedGateway().then([TRANSIENT, TRANSIENT, OK])
    assert asyncio.run(capture(resilient(inner))) == OK
    assert len(inner.calls) == 3


@pytest.mark.parametrize("answer", [DECLINED, REFUSED])
def test_declines_and_refusals_are_not_retried(answer) -> None:
    inner = ScriptedGateway().then([answer])
    assert asyncio.run(capture(resilient(inner))) == answer
    assert len(inner.calls) == 1


def test_declines_do_not_trip_the_breaker() -> None:
    inner = ScriptedGateway().then([DECLINED])
    gw = resilient(inner)

    async def scenario() -> None:
        for i in range(30):
            assert (await capture(gw, f"b-{i}")).outcome == "DECLINED"

    asyncio.run(scenario())
    assert gw.breaker.state is BreakerState.CLOSED


def test_backoff_is_exponential_capped_and_fully_jittered() -> None:
    slept: list[float] = []

    async def sleep(seconds: float) -> None:
        slept.append(seconds)

    config = ResilienceConfig(max_attempts=5, backoff_base_s=0.1, backoff_max_s=0.3, jitter=False)
    inner = ScriptedGateway().then([TRANSIENT])
    asyncio.run(capture(resilient(inner, config, sleep=sleep)))
    assert slept == [0.1, 0.2, 0.3, 0.3]

    slept.clear()
    jittered = ResilienceConfig(max_attempts=5, backoff_base_s=0.1, backoff_max_s=0.3)
    asyncio.run(capture(resilient(ScriptedGateway().then([TRANSIENT]), jittered, sleep=sleep)))
    assert len(slept) == 4
    assert all(0 <= s <= c for s, c in zip(slept, [0.1, 0.2, 0.3, 0.3], strict=True))


def test_timeout_is_enforced_and_retried() -> None:
    inner = ScriptedGateway(delay_s=10)
    gw = resilient(inner, ResilienceConfig(timeout_s=0.05, max_attempts=2, backoff_base_s=0.001))
    started = time.perf_counter()
    result = asyncio.run(capture(gw))
    assert (result.outcome, result.retryable, result.detail) == ("FAILED", True, "timeout")
    assert len(inner.calls) == 2
    assert time.perf_counter() - started < 1.0
    assert inner.in_flight == 0  # the timed-out calls were cancelled, not left running


def test_breaker_opens_fails_fast_then_half_opens_and_closes() -> None:
    clock = FakeClock()
    inner = ScriptedGateway().then([TRANSIENT])
    gw = resilient(inner, ResilienceConfig(max_attempts=1, timeout_s=1.0), clock=clock)
    state = REGISTRY.get_sample_value

    async def scenario() -> None:
        for _ in range(10):
            assert (await capture(gw)).detail == "HTTP 503"
        assert gw.breaker.state is BreakerState.OPEN
        assert state("tessera_gateway_breaker_state", {"gateway": "scripted"}) == 2
        fast = await capture(gw)
        assert (fast.outcome, fast.retryable, fast.detail) == ("FAILED", True, "circuit_open")
        assert len(inner.calls) == 10  # the gateway was not called

        clock.advance(10)
        inner.then([OK])
        assert (await capture(gw)) == OK  # the half-open trial
        assert gw.breaker.state is BreakerState.CLOSED
        assert state("tessera_gateway_breaker_state", {"gateway": "scripted"}) == 0

    asyncio.run(scenario())


def test_open_breaker_ends_the_retry_loop() -> None:
    inner = ScriptedGateway().then([TRANSIENT])
    config = ResilienceConfig(
        max_attempts=3, breaker_min_calls=2, breaker_window=2, backoff_base_s=0.001
    )
    result = asyncio.run(capture(resilient(inner, config)))
    assert result.detail == "circuit_open"
    assert len(inner.calls) == 2


def test_cancelled_half_open_trial_does_not_wedge_the_breaker() -> None:
    clock = FakeClock()
    inner = ScriptedGateway().then([TRANSIENT])
    gw = resilient(inner, ResilienceConfig(max_attempts=1), clock=clock)

    async def scenario() -> None:
        for _ in range(10):
            await capture(gw)
        clock.advance(10)
        inner.delay_s = 10
        trial = asyncio.create_task(capture(gw))
        await asyncio.sleep(0.01)
        trial.cancel()
        with pytest.raises(asyncio.CancelledError):
            await trial
        inner.delay_s = 0
        inner.then([OK])
        assert await capture(gw) == OK

    asyncio.run(scenario())


def test_bulkhead_bounds_calls_in_flight() -> None:
    inner = ScriptedGateway(delay_s=0.05)
    gw = resilient(inner)

    async def scenario() -> None:
        results = await asyncio.gather(*(capture(gw, f"b-{i}") for i in range(30)))
        assert all(r == OK for r in results)

    asyncio.run(scenario())
    assert inner.max_in_flight == 10
    assert len(inner.calls) == 30


def test_one_slow_call_does_not_block_the_others() -> None:
    inner = SimulatedGateway(SimulatedGatewayConfig(slow_ms=2000))
    gw = resilient(inner)

    async def pay(booking: str, pm: str) -> None:
        result = await gw.authorize(
            booking_id=booking,
            amount_minor=100,
            currency="USD",
            payment_method=pm,
            idempotency_key=idempotency_key(booking, "AUTHORIZE"),
        )
        assert result.succeeded

    async def scenario() -> None:
        slow = asyncio.create_task(pay("slow", "pm_card_slow"))
        await asyncio.wait_for(
            asyncio.gather(*(pay(f"b-{i}", "pm_card_visa") for i in range(20))), 1.0
        )
        assert not slow.done()
        slow.cancel()
        with pytest.raises(asyncio.CancelledError):
            await slow

    asyncio.run(scenario())
    assert len(inner.audit()) == 20


def test_no_double_charge_when_answers_are_lost_and_retried() -> None:
    sim = SimulatedGateway(SimulatedGatewayConfig(failure_rate=0.2, timeout_rate=0.3, seed=7))
    config = ResilienceConfig(
        timeout_s=0.02, max_attempts=12, backoff_base_s=0.001, breaker_failure_rate=1.0
    )
    gw = resilient(sim, config)

    async def book(booking: str) -> None:
        auth = await gw.authorize(
            booking_id=booking,
            amount_minor=2500,
            currency="USD",
            payment_method="pm_card_visa",
            idempotency_key=idempotency_key(booking, "AUTHORIZE"),
        )
        assert auth.succeeded and auth.gateway_ref, auth
        captured = await gw.capture(
            gateway_ref=auth.gateway_ref,
            amount_minor=2500,
            idempotency_key=idempotency_key(booking, "CAPTURE"),
        )
        assert captured.succeeded, captured

    async def scenario() -> None:
        await asyncio.wait_for(asyncio.gather(*(book(f"b-{i}") for i in range(20))), 20)

    faults = {"kind": "timeout"}
    before = REGISTRY.get_sample_value("tessera_sim_gateway_faults_total", faults) or 0
    asyncio.run(scenario())
    assert REGISTRY.get_sample_value("tessera_sim_gateway_faults_total", faults) > before + 5
    audit = sim.audit()
    assert len(audit) == 20
    for booking in audit.values():
        assert (booking["authorizations"], booking["captures"]) == (1, 1)
        assert [p["state"] for p in booking["payments"].values()] == ["CAPTURED"]


def test_status_is_retried_and_raises_when_unavailable() -> None:
    inner = ScriptedGateway().then([GatewayUnavailableError("HTTP 502"), OK])
    assert asyncio.run(resilient(inner).status(gateway_ref="pi_1")) == "AUTHORIZED"
    assert len(inner.calls) == 2

    down = ScriptedGateway().then([GatewayUnavailableError("HTTP 502")])
    with pytest.raises(GatewayUnavailableError):
        asyncio.run(resilient(down).status(gateway_ref="pi_1"))
    assert len(down.calls) == 3

    refused = ScriptedGateway().then([GatewayRequestError("bad ref")])
    with pytest.raises(GatewayRequestError):
        asyncio.run(resilient(refused).status(gateway_ref="pi_1"))
    assert len(refused.calls) == 1


def test_unexpected_errors_propagate_and_are_counted() -> None:
    labels = {"gateway": "scripted", "operation": "capture", "kind": "unexpected"}
    before = REGISTRY.get_sample_value("tessera_gateway_errors_total", labels) or 0
    inner = ScriptedGateway().then([RuntimeError("bug")])
    with pytest.raises(RuntimeError, match="bug"):
        asyncio.run(capture(resilient(inner)))
    assert REGISTRY.get_sample_value("tessera_gateway_errors_total", labels) == before + 1


def test_calls_and_retries_are_counted() -> None:
    get = REGISTRY.get_sample_value
    calls = {"gateway": "counted", "operation": "capture", "outcome": "SUCCEEDED"}
    retries = {"gateway": "counted", "operation": "capture"}
    before = (
        get("tessera_gateway_calls_total", calls) or 0,
        get("tessera_gateway_retries_total", retries) or 0,
    )
    inner = ScriptedGateway().then([TRANSIENT, OK])
    asyncio.run(capture(resilient(inner, name="counted")))
    after = (
        get("tessera_gateway_calls_total", calls),
        get("tessera_gateway_retries_total", retries),
    )
    assert after == (before[0] + 1, before[1] + 1)
    assert get("tessera_gateway_call_seconds_count", retries) == 2


def test_close_closes_the_inner_gateway() -> None:
    inner = ScriptedGateway()
    asyncio.run(resilient(inner).close())
    assert inner.closed
