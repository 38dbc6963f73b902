"""The store contract every processor sees: bytes under string keys, scoped to one message key.

quixstreams gives each message a State scoped to the message's Kafka key; the pipelines adapt
it to this protocol, so the state machines stay free of Kafka and are tested with
`InMemoryStore`, which is also the reference for the contract suite.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Protocol


class KeyValueStore(Protocol):
    def get(self, key: str) -> bytes | None: ...

    def set(self, key: str, value: bytes) -> None: ...

    def delete(self, key: str) -> None: ...


class InMemoryStore:
    """A dict-backed KeyValueStore for one message key."""

    __slots__ = ("_values",)

    def __init__(self) -> None:
        self._values: dict[str, bytes] = {}

    def get(self, key: str) -> bytes | None:
        return self._values.get(key)

    def set(self, key: str, value: bytes) -> None:
        # Copy so a caller mutating a bytearray later cannot change what was stored.
        self._values[key] = bytes(value)

    def delete(self, key: str) -> None:
        self._values.pop(key, None)

    def keys(self) -> Iterator[str]:
        """Inspection only (tests, debugging): processors never enumerate their state."""
        return iter(sorted(self._values))

    def __len__(self) -> int:
        return len(self._values)
