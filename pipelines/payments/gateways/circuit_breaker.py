"""A count-based circuit breaker (closed / open / half-open), pure and clock-injectable.

Closed: calls flow; the last `window` outcomes are kept. Once `min_calls` outcomes are
known and the failure share reaches `failure_rate`, it opens. Open: calls are refused
until `open_s` has passed, then it is half-open. Half-open: one trial call goes through;
its success closes the breaker with a fresh window, its failure opens it again.
Callers decide what a failure is; the breaker only counts.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from enum import Enum


class BreakerState(Enum):
    CLOSED = 0
    HALF_OPEN = 1
    OPEN = 2


@dataclass(frozen=True)
class BreakerConfig:
    failure_rate: float = 0.5
    window: int = 20
    min_calls: int = 10
    open_s: float = 10.0

    def __post_init__(self) -> None:
        if not 0.0 < self.failure_rate <= 1.0:
            raise ValueError("failure_rate must be within (0, 1]")
        if not 1 <= self.min_calls <= self.window:
            raise ValueError("min_calls must be within [1, window]")
        if self.open_s < 0:
            raise ValueError("open_s must not be negative")


class CircuitBreaker:
    def __init__(
        self,
        config: BreakerConfig | None = None,
        *,
        clock: Callable[[], float] = time.monotonic,
        on_transition: Callable[[BreakerState], None] | None = None,
    ) -> None:
        self.config = config or BreakerConfig()
        self._clock = clock
        self._on_transition = on_transition
        self._outcomes: deque[bool] = deque(maxlen=self.config.window)  # True = failure
        self._state = BreakerState.CLOSED
        self._opened_at = 0.0
        self._trial_in_flight = False

    @property
    def state(self) -> BreakerState:
        if self._state is BreakerState.OPEN and self._cooled_down():
            self._move(BreakerState.HALF_OPEN)
        return self._state

    @property
    def failure_share(self) -> float:
        return sum(self._outcomes) / len(self._outcomes) if self._outcomes else 0.0

    def allow(self) -> bool:
        """Whether a call may go out now; in half-open, True reserves the single trial."""
        state = self.state
        if state is BreakerState.CLOSED:
            return True
        if state is BreakerState.HALF_OPEN and not self._trial_in_flight:
            self._trial_in_flight = True
            return True
        return False

    def record_success(self) -> None:
        if self._state is BreakerState.HALF_OPEN:
            self._trial_in_flight = False
            self._outcomes.clear()
            self._move(BreakerState.CLOSED)
        elif self._state is BreakerState.CLOSED:
            self._record(failed=False)

    def record_failure(self) -> None:
        if self._state is BreakerState.HALF_OPEN:
            self._trial_in_flight = False
            self._open()
        elif self._state is BreakerState.CLOSED:
            self._record(failed=True)

    def abandon(self) -> None:
        """A permitted call ended with no verdict (cancelled); free the half-open trial."""
        self._trial_in_flight = False

    def _record(self, *, failed: bool) -> None:
        # Judged after every call, not only failures: the success that completes
        # `min_calls` can be the one that reveals a failing majority.
        self._outcomes.append(failed)
        if (
            len(self._outcomes) >= self.config.min_calls
            and self.failure_share >= self.config.failure_rate
        ):
            self._open()

    def _open(self) -> None:
        self._opened_at = self._clock()
        self._outcomes.clear()
        self._move(BreakerState.OPEN)

    def _cooled_down(self) -> bool:
        return self._clock() - self._opened_at >= self.config.open_s

    def _move(self, state: BreakerState) -> None:
        if state is not self._state:
            self._state = state
            if self._on_transition is not None:
                self._on_transition(state)
