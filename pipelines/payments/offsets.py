"""Which offset a partition may commit when records finish out of order.

Gateway calls run concurrently, so record 7 may finish before record 5. Committing 8
then would lose 5 on a crash. The safe position is the lowest offset still unfinished
(or one past the highest seen when nothing is in flight).
"""

from __future__ import annotations

import heapq
from dataclasses import dataclass, field


@dataclass
class PartitionOffsets:
    in_flight: list[int] = field(default_factory=list)  # min-heap
    done: set[int] = field(default_factory=set)
    next_offset: int | None = None  # one past the highest offset handed out

    def started(self, offset: int) -> None:
        heapq.heappush(self.in_flight, offset)
        self.next_offset = max(self.next_offset or 0, offset + 1)

    def finished(self, offset: int) -> None:
        self.done.add(offset)
        while self.in_flight and self.in_flight[0] in self.done:
            self.done.discard(heapq.heappop(self.in_flight))

    def committable(self) -> int | None:
        """The offset to commit (Kafka's 'next record to read'), or None if nothing started."""
        if self.in_flight:
            return self.in_flight[0]
        return self.next_offset

    @property
    def pending(self) -> int:
        return len(self.in_flight)


class OffsetTracker:
    def __init__(self) -> None:
        self._partitions: dict[tuple[str, int], PartitionOffsets] = {}
        self._committed: dict[tuple[str, int], int] = {}

    def started(self, topic: str, partition: int, offset: int) -> None:
        self._partitions.setdefault((topic, partition), PartitionOffsets()).started(offset)

    def finished(self, topic: str, partition: int, offset: int) -> None:
        self._partitions[(topic, partition)].finished(offset)

    def to_commit(self) -> dict[tuple[str, int], int]:
        """Positions that moved since the last commit."""
        moved = {}
        for tp, offsets in self._partitions.items():
            position = offsets.committable()
            if position is not None and self._committed.get(tp) != position:
                moved[tp] = position
        return moved

    def committed(self, positions: dict[tuple[str, int], int]) -> None:
        self._committed.update(positions)

    def forget(self, topic: str, partition: int) -> None:
        self._partitions.pop((topic, partition), None)
        self._committed.pop((topic, partition), None)

    @property
    def in_flight(self) -> int:
        return sum(p.pending for p in self._partitions.values())
