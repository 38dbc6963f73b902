"""The idempotent writer protocol every sink backend implements.

Steps 3-5 of the batch loop belong to the writer: reduce the batch in memory, write it in
one transaction (or pipeline), commit it. The loop owns steps 1-2 and 6 (Kafka).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, Protocol

from schemas.topics import TopicSpec

from .records import Rejected, SourceRecord


class BatchWriter(Protocol):
    name: str
    inputs: tuple[TopicSpec, ...]

    def project(self, spec: TopicSpec, message: Any, source: SourceRecord) -> Iterable[Any]:
        """The rows one decoded message contributes; none if the sink ignores its type.

        Must be deterministic: every value comes from the message, never from the clock,
        so replaying a topic from the start writes identical rows."""
        ...

    def reduce(self, rows: list[Any]) -> Any:
        """Step 3: keep the newest version per target row (what the write would keep)."""
        ...

    def write(self, batch: Any) -> list[Rejected]:
        """Steps 4-5: write idempotently and commit. Raise TransientWriteError if the target
        is unavailable (the same batch is retried); return the rows it will never accept."""
        ...

    def close(self) -> None: ...
