"""The commit policy: on expiry, or early once the input is drained (not before the floor)."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

import pytest

from pipelines.runtime.commits import install_commit_policy


@dataclass
class FakeCheckpoint:
    age_s: float
    pending: bool = True
    interval_s: float = 0.1

    def __post_init__(self) -> None:
        self._created_at = time.monotonic() - self.age_s

    def empty(self) -> bool:
        return not self.pending

    def expired(self) -> bool:
        return self.age_s >= self.interval_s


@dataclass
class FakeContext:
    checkpoint: FakeCheckpoint
    calls: list[dict[str, Any]] = field(default_factory=list)

    def commit_checkpoint(self, force: bool = False, revoking: bool = False) -> None:
        self.calls.append({"force": force, "revoking": revoking})


@dataclass
class FakeTracker:
    _message_consumed: bool


class FakeApp:
    def __init__(self, checkpoint: FakeCheckpoint, consumed_last_poll: bool) -> None:
        self._processing_context = FakeContext(checkpoint)
        self._run_tracker = FakeTracker(consumed_last_poll)


def turn(age_s: float, *, consumed: bool, pending: bool = True, **kw: Any) -> list[dict]:
    app = FakeApp(FakeCheckpoint(age_s, pending), consumed)
    context = app._processing_context
    install_commit_policy(app, "saga", min_interval_s=0.02)  # type: ignore[arg-type]
    context.commit_checkpoint(**kw)  # type: ignore[call-arg]
    return context.calls


@pytest.mark.parametrize(
    ("age_s", "consumed", "commits"),
    [
        (0.15, True, True),  # interval expired under a backlog
        (0.05, False, True),  # drained, past the floor: commit early
        (0.005, False, False),  # drained, but the last commit was a moment ago
        (0.05, True, False),  # still consuming, interval not over: keep batching
    ],
)
def test_when_a_checkpoint_commits(age_s: float, consumed: bool, commits: bool) -> None:
    calls = turn(age_s, consumed=consumed)
    assert calls == ([{"force": True, "revoking": False}] if commits else [])


def test_forced_commits_and_empty_checkpoints_go_through_unchanged() -> None:
    assert turn(0.0, consumed=True, force=True, revoking=True) == [
        {"force": True, "revoking": True}
    ]
    assert turn(0.5, consumed=False, pending=False) == [{"force": False, "revoking": False}]
