"""The quixstreams State behind the public store contract (state_stores.base.KeyValueStore).

Processors see only get/set/delete of bytes for the current message key; RocksDB,
prefixes and changelogs stay quixstreams' business.
"""

from __future__ import annotations

from typing import Any

from quixstreams.state.rocksdb import RocksDBOptions

# Values are already encoded by the domain (msgpack), so the store passes bytes through.
PASSTHROUGH_OPTIONS = RocksDBOptions(dumps=lambda value: value, loads=lambda value: value)


class QuixStateStore:
    __slots__ = ("_state",)

    def __init__(self, state: Any) -> None:
        self._state = state

    def get(self, key: str) -> bytes | None:
        value = self._state.get(key.encode())
        return None if value is None else bytes(value)

    def set(self, key: str, value: bytes) -> None:
        self._state.set(key.encode(), value)

    def delete(self, key: str) -> None:
        self._state.delete(key.encode())
