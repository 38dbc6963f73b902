"""Request and response objects over raw ASGI, and the problem+json rendering."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl, quote

import msgspec

from .exceptions import ApiError, PayloadTooLarge, Unauthorized
from .models import Problem

if TYPE_CHECKING:
    from .auth.principal import Principal
    from .router import Route

Scope = dict[str, Any]
Receive = Callable[[], Awaitable[dict[str, Any]]]
Send = Callable[[dict[str, Any]], Awaitable[None]]

JSON = "application/json"
PROBLEM_JSON = "application/problem+json"
_ENCODER = msgspec.json.Encoder()
_CONTENT_TYPES = {JSON: JSON.encode(), PROBLEM_JSON: PROBLEM_JSON.encode()}


class HttpRequest:
    """One request: parsed headers, the matched route and what the pipeline learned."""

    __slots__ = (
        "scope", "receive", "method", "path", "params", "headers", "route", "client_ip",
        "request_id", "principal", "body", "query", "idempotency_key", "state", "writes",
    )  # fmt: skip

    def __init__(self, scope: Scope, receive: Receive, route: Route | None, params: dict) -> None:
        self.scope = scope
        self.receive = receive
        self.method: str = scope["method"]
        self.path: str = scope["path"]
        self.params: dict[str, str] = params
        self.headers: dict[str, str] = {
            k.decode("latin-1"): v.decode("latin-1") for k, v in scope["headers"]
        }
        self.route = route
        self.client_ip = ""
        self.request_id = ""
        self.principal: Principal | None = None
        self.body: Any = None
        self.query: Any = None
        self.idempotency_key: str | None = None
        self.state: Any = None  # what a route's prepare step worked out for its handler
        self.writes: list[tuple[str, bytes, int]] = []  # Redis SETs to do with the response

    @property
    def user(self) -> Principal:
        """The authenticated caller (routes with roles only)."""
        if self.principal is None:
            raise Unauthorized("authentication required", code="MISSING_TOKEN")
        return self.principal

    def query_pairs(self) -> list[tuple[str, str]]:
        raw = self.scope.get("query_string")
        if not raw:
            return []
        return parse_qsl(raw.decode("latin-1"), keep_blank_values=True)

    async def read_body(self, limit: int) -> bytes:
        declared = self.headers.get("content-length")
        if declared is not None and declared.isdigit() and int(declared) > limit:
            raise PayloadTooLarge(f"body exceeds {limit} bytes")
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await self.receive()
            if message["type"] == "http.disconnect":
                break
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > limit:
                raise PayloadTooLarge(f"body exceeds {limit} bytes")
            chunks.append(chunk)
            if not message.get("more_body", False):
                break
        return b"".join(chunks)


class HttpResponse:
    __slots__ = ("status", "body", "content_type", "headers", "code")

    def __init__(
        self,
        status: int,
        body: bytes = b"",
        content_type: str = JSON,
        headers: dict[str, str] | None = None,
        code: str | None = None,
    ) -> None:
        self.status = status
        self.body = body
        self.content_type = content_type
        self.headers = headers if headers is not None else {}
        self.code = code  # the problem code of an error response (for metrics)

    async def send(self, send: Send, extra: dict[str, str]) -> None:
        raw = [
            (b"content-type", _CONTENT_TYPES.get(self.content_type) or self.content_type.encode()),
            (b"content-length", b"%d" % len(self.body)),
        ]
        merged = {**extra, **self.headers} if self.headers else extra
        for name, value in merged.items():
            raw.append((name.lower().encode(), value.encode("latin-1")))
        await send({"type": "http.response.start", "status": self.status, "headers": raw})
        await send({"type": "http.response.body", "body": self.body})


class StreamResponse(HttpResponse):
    """A response whose body the handler produces over time (server-sent events)."""

    __slots__ = ("producer",)

    def __init__(self, content_type: str, producer: Callable[[Send, Receive], Awaitable[None]]):
        super().__init__(200, b"", content_type, {"Cache-Control": "no-cache"})
        self.producer = producer


def path(template: str, *segments: str) -> str:
    """A URL path with each segment percent-encoded (Location headers must be ASCII)."""
    return template.format(*(quote(s, safe="") for s in segments))


def json_response(status: int, payload: Any, headers: dict[str, str] | None = None) -> HttpResponse:
    return HttpResponse(status, _ENCODER.encode(payload), JSON, headers)


def problem_response(error: ApiError, request_path: str, request_id: str) -> HttpResponse:
    problem = Problem(
        type=f"urn:tessera:problem:{error.code.lower()}",
        title=error.title,
        status=error.status,
        detail=error.detail,
        code=error.code,
        instance=request_path,
        request_id=request_id,
        field=error.field,
    )
    body = _ENCODER.encode(problem)
    return HttpResponse(error.status, body, PROBLEM_JSON, dict(error.headers), error.code)
