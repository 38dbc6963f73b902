"""What a sink sees of a Kafka record, and a record the target refused."""

from __future__ import annotations

from dataclasses import dataclass, field

Headers = list[tuple[str, bytes]]


@dataclass(frozen=True, slots=True)
class SourceRecord:
    """One consumed record; `topic` is the registry name (without the test prefix)."""

    topic: str
    partition: int
    offset: int
    key: str
    value: bytes
    headers: Headers = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class Rejected:
    """A record the target will never accept (a constraint, bad data): it is dead-lettered
    with `reason`, and its offset is committed like any other."""

    source: SourceRecord
    reason: str
    error: str
