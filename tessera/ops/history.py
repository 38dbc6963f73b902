"""Consumer lag over time: a ring buffer of snapshots, kept for `window_s` seconds.

Sparse: a snapshot stores only the partitions with a lag, so ten minutes of a deployment
with hundreds of partitions stays small, and the page fetches only what is new (`since`).
"""

from __future__ import annotations

import threading
from collections import deque
from typing import Any

Position = tuple[str, str, int]  # group, topic, partition (broker names)


class LagHistory:
    def __init__(self, window_s: float, interval_s: float) -> None:
        self.window_s = window_s
        self.interval_s = interval_s
        self._points: deque[tuple[float, dict[Position, int]]] = deque(
            maxlen=max(2, int(window_s / max(interval_s, 0.1)) + 1)
        )
        self._lock = threading.Lock()

    def add(self, at: float, lags: dict[Position, int]) -> None:
        with self._lock:
            self._points.append((at, {k: v for k, v in lags.items() if v}))
            while self._points and self._points[0][0] < at - self.window_s:
                self._points.popleft()

    def __len__(self) -> int:
        return len(self._points)

    def series(self, group: str, topic: str, partition: int) -> list[tuple[float, int]]:
        with self._lock:
            return [(at, lags.get((group, topic, partition), 0)) for at, lags in self._points]

    def to_json(self, since: float = 0.0, strip: str = "") -> list[dict[str, Any]]:
        """Snapshots after `since`: {"t": epoch s, "lags": {group: {"topic/partition": lag}}},
        with the deployment's topic prefix stripped from group and topic names."""
        cut = len(strip)
        out = []
        with self._lock:
            points = [(at, lags) for at, lags in self._points if at > since]
        for at, lags in points:
            groups: dict[str, dict[str, int]] = {}
            for (group, topic, partition), lag in lags.items():
                groups.setdefault(group[cut:], {})[f"{topic[cut:]}/{partition}"] = lag
            out.append({"t": round(at, 3), "lags": groups})
        return out
