"""Encoding of stored records: msgpack, compact and fast, read and written on every message.

Stored structs follow the same append-only rule as the topic contracts (new fields get
defaults), so state written by an older release decodes in a newer one.
"""

from __future__ import annotations

from typing import Any, TypeVar

import msgspec

from .exceptions import CorruptStateError

T = TypeVar("T")

_ENCODER = msgspec.msgpack.Encoder()
_DECODERS: dict[Any, msgspec.msgpack.Decoder[Any]] = {}


def encode_state(record: Any) -> bytes:
    return _ENCODER.encode(record)


def decode_state(data: bytes, kind: type[T]) -> T:
    decoder = _DECODERS.get(kind)
    if decoder is None:
        decoder = _DECODERS[kind] = msgspec.msgpack.Decoder(kind)
    try:
        record: T = decoder.decode(data)
    except msgspec.DecodeError as error:
        raise CorruptStateError(f"stored bytes are not a valid {kind.__name__}: {error}") from error
    return record
