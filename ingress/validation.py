"""Request validation: path parameters, query strings and JSON bodies against their Structs.

Bodies are decoded in two steps (JSON to Python with integral floats made ints, then a
strict conversion to the Struct) so `1.0` and `1e2` count as integers, as JSON Schema
says, while a string never silently becomes a number. Query strings are text, so only the
fields typed int are converted from digit strings before the same strict conversion.
"""

from __future__ import annotations

import re
from functools import cache
from typing import Any

import msgspec

from .exceptions import BadRequest, Unprocessable, UnsupportedMediaType
from .http import HttpRequest
from .router import Route

_INT = re.compile(r"-?[0-9]{1,18}")
_ID = re.compile(r"[^\x00-\x1f\x7f]{1,128}")


def _float_hook(text: str) -> float | int:
    value = float(text)
    return int(value) if value.is_integer() and abs(value) < 2**63 else value


_ANY_JSON = msgspec.json.Decoder(float_hook=_float_hook)


def valid_id(value: str) -> bool:
    """A path parameter: 1-128 characters, none of them control characters (models.ApiId)."""
    return _ID.fullmatch(value) is not None


def valid_token(value: str | None, max_length: int) -> bool:
    """A header token (request id, idempotency key): 1-max visible ASCII characters."""
    return (
        value is not None
        and 0 < len(value) <= max_length
        and value.isascii()
        and value.isprintable()
        and " " not in value
    )


@cache
def _int_fields(query_type: Any) -> frozenset[str]:
    info = msgspec.inspect.type_info(query_type)
    names = set()
    for field in info.fields:  # type: ignore[attr-defined]
        types = (
            field.type.types if isinstance(field.type, msgspec.inspect.UnionType) else (field.type,)
        )
        if any(isinstance(t, msgspec.inspect.IntType) for t in types):
            names.add(field.encode_name)
    return frozenset(names)


def parse_query(req: HttpRequest, route: Route) -> Any:
    pairs = req.query_pairs()
    if route.query is None:
        if pairs:
            raise Unprocessable(f"unknown query parameter {pairs[0][0]!r}", code="INVALID_QUERY")
        return None
    values: dict[str, Any] = dict(pairs)
    if len(values) != len(pairs):
        raise Unprocessable("a query parameter was given twice", code="INVALID_QUERY")
    for name in _int_fields(route.query) & values.keys():
        if _INT.fullmatch(values[name]):
            values[name] = int(values[name])
    try:
        return msgspec.convert(values, route.query)
    except msgspec.ValidationError as exc:
        raise Unprocessable(str(exc), code="INVALID_QUERY") from exc


async def parse_body(req: HttpRequest, route: Route, max_bytes: int) -> Any:
    if not route.mutating:
        return None
    raw = await req.read_body(max_bytes)
    if route.body is None or not raw:
        if raw:
            raise BadRequest(f"{route.name} takes no body", code="BODY_NOT_ALLOWED")
        if route.body is not None and route.body_required:
            raise Unprocessable("a JSON body is required", code="BODY_REQUIRED")
        return None
    media = req.headers.get("content-type", "").split(";", 1)[0].strip().lower()
    if media != "application/json":
        raise UnsupportedMediaType("send application/json")
    try:
        document = _ANY_JSON.decode(raw)
    except msgspec.DecodeError as exc:
        raise BadRequest(f"malformed JSON: {exc}", code="MALFORMED_JSON") from exc
    try:
        return msgspec.convert(document, route.body)
    except msgspec.ValidationError as exc:
        raise Unprocessable(str(exc), code="VALIDATION_FAILED") from exc
