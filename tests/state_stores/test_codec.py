from __future__ import annotations

import pytest

from schemas.base import Money
from state_stores.codec import decode_state, encode_state
from state_stores.exceptions import CorruptStateError
from state_stores.inventory.state import ItemLedger


def test_records_round_trip() -> None:
    ledger = ItemLedger(item_id="i", capacity=10, held=2, sold=3, price=Money(999, "EUR"))
    assert decode_state(encode_state(ledger), ItemLedger) == ledger


def test_garbage_is_reported_as_corrupt_state() -> None:
    with pytest.raises(CorruptStateError, match="ItemLedger"):
        decode_state(b"\xc1not msgpack", ItemLedger)
