from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pipelines.payments.gateways.circuit_breaker import BreakerConfig, BreakerState, CircuitBreaker

from .fakes import FakeClock


def breaker(**overrides: float) -> tuple[CircuitBreaker, FakeClock, list[BreakerState]]:
    clock = FakeClock()
    moves: list[BreakerState] = []
    config = BreakerConfig(**overrides)  # type: ignore[arg-type]
    return CircuitBreaker(config, clock=clock, on_transition=moves.append), clock, moves


def feed(cb: CircuitBreaker, outcomes: str) -> None:
    """'s' records a success, 'f' a failure."""
    for outcome in outcomes:
        assert cb.allow()
        cb.record_success() if outcome == "s" else cb.record_failure()


def test_stays_closed_until_min_calls_are_known() -> None:
    cb, _, _ = breaker()
    feed(cb, "f" * 9)
    assert cb.state is BreakerState.CLOSED


def test_opens_at_fifty_percent_failures_once_min_calls_reached() -> None:
    cb, _, moves = breaker()
    feed(cb, "sfsfsfsfs")
    assert cb.state is BreakerState.CLOSED
    feed(cb, "f")  # 5 of 10
    assert cb.state is BreakerState.OPEN
    assert moves == [BreakerState.OPEN]
    assert not cb.allow()


def test_stays_closed_below_the_failure_rate() -> None:
    cb, _, _ = breaker()
    feed(cb, "s" * 12 + "f" * 8)  # never more than 8 failures in 20
    assert cb.failure_share == 0.4
    assert cb.state is BreakerState.CLOSED


def test_window_slides_so_old_failures_age_out() -> None:
    cb, _, _ = breaker()
    feed(cb, "s" * 11 + "f" * 9)  # 9 of 20
    feed(cb, "s" * 20)
    assert cb.failure_share == 0.0
    feed(cb, "f" * 9)  # 9 of 20 again: still closed
    assert cb.state is BreakerState.CLOSED


def test_half_opens_after_open_s_and_one_trial_closes_it() -> None:
    cb, clock, moves = breaker()
    feed(cb, "f" * 10)
    clock.advance(9.99)
    assert cb.state is BreakerState.OPEN and not cb.allow()
    clock.advance(0.01)
    assert cb.state is BreakerState.HALF_OPEN
    assert cb.allow()  # the trial
    assert not cb.allow()  # only one at a time
    cb.record_success()
    assert cb.state is BreakerState.CLOSED
    assert cb.failure_share == 0.0  # a fresh window
    assert moves == [BreakerState.OPEN, BreakerState.HALF_OPEN, BreakerState.CLOSED]


def test_failed_trial_reopens_for_another_open_period() -> None:
    cb, clock, _ = breaker()
    feed(cb, "f" * 10)
    clock.advance(10)
    assert cb.allow()
    cb.record_failure()
    assert cb.state is BreakerState.OPEN
    clock.advance(9)
    assert not cb.allow()
    clock.advance(1)
    assert cb.allow()


def test_abandoned_trial_frees_the_slot() -> None:
    cb, clock, _ = breaker()
    feed(cb, "f" * 10)
    clock.advance(10)
    assert cb.allow()
    cb.abandon()
    assert cb.state is BreakerState.HALF_OPEN
    assert cb.allow()


def test_late_answers_while_open_are_ignored() -> None:
    cb, _, _ = breaker()
    feed(cb, "f" * 10)
    cb.record_success()
    cb.record_failure()
    assert cb.state is BreakerState.OPEN


@pytest.mark.parametrize(
    "overrides",
    [{"failure_rate": 0.0}, {"failure_rate": 1.5}, {"min_calls": 21}, {"open_s": -1}],
)
def test_config_is_validated(overrides: dict[str, float]) -> None:
    with pytest.raises(ValueError):
        BreakerConfig(**overrides)  # type: ignore[arg-type]


@given(st.text(alphabet="sf", max_size=60))
def test_opens_exactly_when_the_window_reaches_the_rate(outcomes: str) -> None:
    cb, _, _ = breaker()
    for i, outcome in enumerate(outcomes):
        window = outcomes[max(0, i - 19) : i + 1]
        cb.record_success() if outcome == "s" else cb.record_failure()
        should_open = len(window) >= 10 and window.count("f") / len(window) >= 0.5
        if should_open:
            assert cb.state is BreakerState.OPEN
            return
        assert cb.state is BreakerState.CLOSED
