from hypothesis import given
from hypothesis import strategies as st

from pipelines.payments.offsets import OffsetTracker


def test_commit_position_stops_at_the_oldest_unfinished_record() -> None:
    tracker = OffsetTracker()
    for offset in (5, 6, 7):
        tracker.started("t", 0, offset)
    tracker.finished("t", 0, 7)
    tracker.finished("t", 0, 6)
    assert tracker.to_commit() == {("t", 0): 5}
    tracker.committed({("t", 0): 5})
    assert tracker.to_commit() == {}
    tracker.finished("t", 0, 5)
    assert tracker.to_commit() == {("t", 0): 8}
    assert tracker.in_flight == 0


def test_forgetting_a_revoked_partition_drops_its_positions() -> None:
    tracker = OffsetTracker()
    tracker.started("t", 1, 0)
    tracker.forget("t", 1)
    assert tracker.to_commit() == {}


@given(st.permutations(list(range(30))), st.integers(min_value=0, max_value=30))
def test_never_commits_past_an_unfinished_record(order: list[int], finish_count: int) -> None:
    tracker = OffsetTracker()
    for offset in range(30):
        tracker.started("t", 0, offset)
    finished = set(order[:finish_count])
    for offset in order[:finish_count]:
        tracker.finished("t", 0, offset)
    position = tracker.to_commit()[("t", 0)]
    assert all(o in finished for o in range(position))
    assert position == 30 or position not in finished
