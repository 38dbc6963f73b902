"""The route table's types and a small matcher (static paths by dict, templated by segments).

A Route is the single description of an endpoint: the app enforces it (roles, body and
query types, idempotency) and openapi.py documents it, so the two cannot drift apart.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal
from urllib.parse import unquote

from .auth.principal import Role

if TYPE_CHECKING:
    from .admission import Hold
    from .http import HttpRequest, HttpResponse
    from .services import Services

Handler = Callable[["HttpRequest", "Services"], Awaitable["HttpResponse"]]
Prepare = Callable[["HttpRequest", "Services"], "Hold | None"]
Idempotency = Literal["required", "optional"] | None


@dataclass(frozen=True)
class Route:
    method: str
    path: str  # template: /api/v1/bookings/{id}
    handler: Handler
    name: str  # operationId and the metrics label
    summary: str
    tag: str
    roles: frozenset[Role] | None = None  # None: public (no auth, no rate limit)
    body: Any = None  # request Struct type
    body_required: bool = True
    query: Any = None  # query-parameter Struct type
    idempotency: Idempotency = None
    prepare: Prepare | None = None  # before admission: validate, derive ids, ask for a hold
    ok: tuple[int, Any, str] = (200, None, "OK")  # status, response type, description
    errors: tuple[int | tuple[int, Any, str], ...] = ()  # extra statuses; tuple: non-problem body
    content_type: str = "application/json"  # of the success response
    description: str = ""
    segments: tuple[str, ...] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "segments", tuple(self.path.strip("/").split("/")))

    @property
    def params(self) -> list[str]:
        return [s[1:-1] for s in self.segments if s.startswith("{")]

    @property
    def mutating(self) -> bool:
        return self.method != "GET"


class Router:
    def __init__(self, routes: list[Route]) -> None:
        self.routes = routes
        self._static: dict[str, dict[str, Route]] = {}
        self._dynamic: dict[int, list[tuple[tuple[str, ...], dict[str, Route]]]] = {}
        for route in routes:
            if "{" not in route.path:
                self._static.setdefault(route.path, {})[route.method] = route
                continue
            bucket = self._dynamic.setdefault(len(route.segments), [])
            for segments, methods in bucket:
                if segments == route.segments:
                    methods[route.method] = route
                    break
            else:
                bucket.append((route.segments, {route.method: route}))

    def match(self, path: str, raw_path: str | None) -> tuple[dict[str, Route], dict[str, str]]:
        """The routes (by method) for a path and its parameters; ({}, {}) when none match.

        Templated paths are matched on the raw path so an encoded '/' stays inside a segment.
        """
        methods = self._static.get(path)
        if methods is not None:
            return methods, {}
        parts = (raw_path if raw_path is not None else path).strip("/").split("/")
        for segments, methods in self._dynamic.get(len(parts), ()):
            params: dict[str, str] = {}
            for pattern, part in zip(segments, parts, strict=True):
                if pattern[0] == "{":
                    params[pattern[1:-1]] = unquote(part)
                elif pattern != part:
                    break
            else:
                return methods, params
        return {}, {}
