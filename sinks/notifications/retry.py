"""Retry bookkeeping: attempt headers, the per-record delay queue, committable offsets.

A record on notification-retry carries its attempt number and the time it is due
(`x-notification-attempt`, `x-not-before`, epoch ms). The service keeps due-later records
in a heap instead of sleeping, so a record due in five minutes never holds back one due
now; a partition's offset is committed only up to its oldest record not yet finished, so
a crash re-reads whatever was waiting (the ledger makes re-reading harmless).
"""

from __future__ import annotations

import heapq
import itertools
from dataclasses import dataclass, field
from typing import Any

from ..base.records import Headers, SourceRecord

ATTEMPT_HEADER = "x-notification-attempt"
NOT_BEFORE_HEADER = "x-not-before"
ERROR_HEADER = "x-last-error"
_OWN_HEADERS = (ATTEMPT_HEADER, NOT_BEFORE_HEADER, ERROR_HEADER)


def header_int(headers: Headers, name: str, default: int) -> int:
    for key, value in headers:
        if key == name:
            try:
                return int(value)
            except ValueError:
                return default
    return default


def retry_headers(headers: Headers, attempt: int, not_before_ms: int, error: str) -> Headers:
    kept = [(k, v) for k, v in headers if k not in _OWN_HEADERS]
    return [
        *kept,
        (ATTEMPT_HEADER, str(attempt).encode()),
        (NOT_BEFORE_HEADER, str(not_before_ms).encode()),
        (ERROR_HEADER, error[:500].encode()),
    ]


@dataclass(frozen=True)
class Pending:
    """A decoded request waiting for (or in) its delivery attempt."""

    source: SourceRecord
    broker_topic: str
    request: Any
    attempt: int


class DelayQueue:
    def __init__(self) -> None:
        self._heap: list[tuple[int, int, Pending]] = []
        self._seq = itertools.count()

    def push(self, due_ms: int, item: Pending) -> None:
        heapq.heappush(self._heap, (due_ms, next(self._seq), item))

    def pop_due(self, now_ms: int, limit: int) -> list[Pending]:
        due = []
        while self._heap and self._heap[0][0] <= now_ms and len(due) < limit:
            due.append(heapq.heappop(self._heap)[2])
        return due

    def next_due_ms(self) -> int | None:
        return self._heap[0][0] if self._heap else None

    def drop_partitions(self, revoked: set[tuple[str, int]]) -> None:
        self._heap = [
            e for e in self._heap if (e[2].broker_topic, e[2].source.partition) not in revoked
        ]
        heapq.heapify(self._heap)

    def __len__(self) -> int:
        return len(self._heap)


@dataclass
class PartitionOffsets:
    open: set[int] = field(default_factory=set)
    next_offset: int = 0  # one past the highest offset seen

    def committable(self) -> int:
        return min(self.open) if self.open else self.next_offset


class OffsetTracker:
    def __init__(self) -> None:
        self._partitions: dict[tuple[str, int], PartitionOffsets] = {}
        self._committed: dict[tuple[str, int], int] = {}

    def started(self, tp: tuple[str, int], offset: int) -> None:
        part = self._partitions.setdefault(tp, PartitionOffsets())
        part.open.add(offset)
        part.next_offset = max(part.next_offset, offset + 1)

    def finished(self, tp: tuple[str, int], offset: int) -> None:
        part = self._partitions.get(tp)
        if part is not None:
            part.open.discard(offset)

    def owns(self, tp: tuple[str, int]) -> bool:
        return tp in self._partitions

    def to_commit(self) -> dict[tuple[str, int], int]:
        moved = {}
        for tp, part in self._partitions.items():
            position = part.committable()
            if position and self._committed.get(tp) != position:
                moved[tp] = position
        return moved

    def committed(self, positions: dict[tuple[str, int], int]) -> None:
        self._committed.update(positions)

    def forget(self, tp: tuple[str, int]) -> None:
        self._partitions.pop(tp, None)
        self._committed.pop(tp, None)
