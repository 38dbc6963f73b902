from __future__ import annotations

from schemas.timers import ScheduleTimer, Tick
from state_stores.base import InMemoryStore
from state_stores.timers import FiredTimer, on_schedule, on_tick

BUCKET = 1_700_000_001
DUE = BUCKET * 1000
BEFORE = DUE - 5_000


def timer(timer_id: str, due_at: int = DUE, key: str = "b-1") -> ScheduleTimer:
    return ScheduleTimer(
        timer_id=timer_id,
        due_at=due_at,
        target_topic="saga-timeouts",
        target_key=key,
        payload=f'{{"id":"{timer_id}"}}'.encode(),
    )


def fired(timer_id: str, key: str = "b-1") -> FiredTimer:
    return FiredTimer("saga-timeouts", key, f'{{"id":"{timer_id}"}}'.encode(), timer_id)


def test_scheduled_timers_wait_for_their_tick_and_fire_in_order() -> None:
    store = InMemoryStore()
    for name in ("a", "b", "c"):
        assert on_schedule(store, timer(name), now_ms=BEFORE) == []
    assert on_tick(store, Tick(bucket=BUCKET)) == [fired("a"), fired("b"), fired("c")]


def test_a_tick_clears_the_bucket_and_a_repeated_tick_fires_nothing() -> None:
    store = InMemoryStore()
    on_schedule(store, timer("a"), now_ms=BEFORE)
    on_tick(store, Tick(bucket=BUCKET))
    assert list(store.keys()) == ["fired"]
    assert on_tick(store, Tick(bucket=BUCKET)) == []


def test_a_schedule_after_the_bucket_fired_fires_at_once() -> None:
    store = InMemoryStore()
    on_tick(store, Tick(bucket=BUCKET))
    assert on_schedule(store, timer("late"), now_ms=BEFORE) == [fired("late")]
    assert list(store.keys()) == ["fired"]


def test_a_schedule_already_past_due_fires_at_once() -> None:
    store = InMemoryStore()
    assert on_schedule(store, timer("overdue"), now_ms=DUE) == [fired("overdue")]
    assert len(store) == 0


def test_the_same_timer_scheduled_twice_fires_once() -> None:
    store = InMemoryStore()
    on_schedule(store, timer("a"), now_ms=BEFORE)
    on_schedule(store, timer("a"), now_ms=BEFORE)
    assert on_tick(store, Tick(bucket=BUCKET)) == [fired("a")]


def test_an_empty_bucket_ticks_to_nothing() -> None:
    assert on_tick(InMemoryStore(), Tick(bucket=BUCKET)) == []


def test_thousands_of_timers_in_one_bucket_are_appended_without_rewrites() -> None:
    store = InMemoryStore()
    for index in range(2_000):
        on_schedule(store, timer(f"t{index}", key=f"b-{index}"), now_ms=BEFORE)
    # One record per timer, one dedupe marker each, and the count.
    assert len(store) == 2 * 2_000 + 1
    result = on_tick(store, Tick(bucket=BUCKET))
    assert [f.timer_id for f in result] == [f"t{index}" for index in range(2_000)]
    assert result[1_999].key == "b-1999"


def test_a_fired_timer_keeps_the_trace_that_set_it() -> None:
    store = InMemoryStore()
    timer = ScheduleTimer(
        timer_id="t-trace",
        due_at=5_000,
        target_topic="saga-timeouts",
        target_key="b",
        payload=b"{}",
        traceparent="00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
    )
    assert on_schedule(store, timer, now_ms=1_000) == []
    (fired,) = on_tick(store, Tick(bucket=5))
    assert fired.traceparent == timer.traceparent
