"""The KeyValueStore contract, run against every implementation.

The lead adds the quixstreams-backed adapter to STORE_FACTORIES; every state machine relies
only on what this suite pins down.
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable, Iterator

import pytest

from state_stores.base import InMemoryStore, KeyValueStore


def in_memory() -> Iterator[KeyValueStore]:
    yield InMemoryStore()


def quixstreams_rocksdb() -> Iterator[KeyValueStore]:
    """The store the pipelines run on: quixstreams' RocksDB partition, one message key."""
    from quixstreams.state.rocksdb.partition import RocksDBStorePartition

    from pipelines.runtime.store import PASSTHROUGH_OPTIONS, QuixStateStore

    with tempfile.TemporaryDirectory() as path:
        partition = RocksDBStorePartition(path, options=PASSTHROUGH_OPTIONS)
        transaction = partition.begin()
        yield QuixStateStore(transaction.as_state(prefix=b"item-1"))
        partition.close()


STORE_FACTORIES: dict[str, Callable[[], Iterator[KeyValueStore]]] = {
    "in-memory": in_memory,
    "quixstreams-rocksdb": quixstreams_rocksdb,
}


@pytest.fixture(params=sorted(STORE_FACTORIES))
def store(request: pytest.FixtureRequest) -> Iterator[KeyValueStore]:
    yield from STORE_FACTORIES[request.param]()


def test_a_missing_key_reads_as_none(store: KeyValueStore) -> None:
    assert store.get("absent") is None


def test_what_is_set_is_read_back_as_bytes(store: KeyValueStore) -> None:
    store.set("ledger", b"\x81\xa1a\x01")
    assert store.get("ledger") == b"\x81\xa1a\x01"
    assert isinstance(store.get("ledger"), bytes)


def test_an_empty_value_is_present_not_missing(store: KeyValueStore) -> None:
    store.set("id:timer", b"")
    assert store.get("id:timer") == b""


def test_set_overwrites(store: KeyValueStore) -> None:
    store.set("count", b"1")
    store.set("count", b"2")
    assert store.get("count") == b"2"


def test_delete_removes_only_that_key(store: KeyValueStore) -> None:
    store.set("res:a", b"a")
    store.set("res:b", b"b")
    store.delete("res:a")
    assert store.get("res:a") is None
    assert store.get("res:b") == b"b"


def test_deleting_a_missing_key_is_a_no_op(store: KeyValueStore) -> None:
    store.delete("never-set")
    assert store.get("never-set") is None


def test_a_key_can_be_set_again_after_delete(store: KeyValueStore) -> None:
    store.set("t:0", b"x")
    store.delete("t:0")
    store.set("t:0", b"y")
    assert store.get("t:0") == b"y"


def test_keys_with_separators_and_unicode_are_distinct(store: KeyValueStore) -> None:
    keys = ["res:a:b", "res:a", "res:", "res:ä", "id:hold:b-1:1700000000000"]
    for index, key in enumerate(keys):
        store.set(key, bytes([index]))
    assert [store.get(key) for key in keys] == [bytes([i]) for i in range(len(keys))]


def test_large_values_round_trip(store: KeyValueStore) -> None:
    value = bytes(range(256)) * 1024
    store.set("blob", value)
    assert store.get("blob") == value


def test_a_stored_value_does_not_change_when_the_caller_mutates_its_buffer(
    store: KeyValueStore,
) -> None:
    buffer = bytearray(b"abc")
    store.set("k", bytes(buffer))
    buffer[0] = ord("z")
    assert store.get("k") == b"abc"
