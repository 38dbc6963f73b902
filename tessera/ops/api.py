"""The ops routes: the operator page, the JSON API behind it, /metrics and the trace page.

Every answer is (status, content type, body); errors are OpsError subclasses turned into
JSON `{"error": code, "detail": ...}` with their status by the server.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from importlib import resources
from typing import Any
from urllib.parse import unquote

from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, generate_latest

from .exceptions import BadRequest, NotFound
from .journey import journey
from .state import OpsState

Answer = tuple[int, str, bytes]
JSON = "application/json"
HTML = "text/html; charset=utf-8"


def _page(name: str) -> bytes:
    return resources.files("tessera.ops").joinpath("static", name).read_bytes()


def _int(query: dict[str, str], name: str, default: int, low: int, high: int) -> int:
    try:
        value = int(query.get(name, default))
    except ValueError as exc:
        raise BadRequest(f"{name} must be an integer") from exc
    return max(low, min(high, value))


def _json(value: Any, status: int = 200) -> Answer:
    return status, JSON, json.dumps(value, default=str).encode()


class OpsApi:
    def __init__(self, state: OpsState) -> None:
        self.state = state
        self.get_routes: dict[str, Callable[[dict[str, str]], Answer]] = {
            "/": lambda _q: (200, HTML, _page("dashboard.html")),
            "/metrics": lambda _q: (200, CONTENT_TYPE_LATEST, generate_latest(REGISTRY)),
            "/healthz": lambda _q: _json({"ok": True}),
            "/api/lag": self.lag,
            "/api/funnel": lambda _q: _json(self.state.funnel()),
            "/api/stuck": self.stuck,
            "/api/dead-letters": self.dead_letters,
        }

    def route_name(self, method: str, path: str) -> str:
        """The route label for metrics (never the booking id: bounded cardinality)."""
        if path.startswith("/trace/"):
            return "/trace/{bookingId}"
        known = path in self.get_routes or path == "/api/dead-letters/replay"
        return path if known else "other"

    def handle(
        self, method: str, path: str, query: dict[str, str], auth: str | None, body: bytes
    ) -> Answer:
        if method == "GET" and path in self.get_routes:
            return self.get_routes[path](query)
        if method == "GET" and path.startswith("/trace/"):
            return self.trace(unquote(path[len("/trace/") :]), query)
        if method == "POST" and path == "/api/dead-letters/replay":
            return self.replay(auth, body)
        raise NotFound(f"no route {method} {path}")

    def lag(self, query: dict[str, str]) -> Answer:
        try:
            since = float(query.get("since", 0))
        except ValueError as exc:
            raise BadRequest("since must be a number (epoch seconds)") from exc
        return _json(self.state.lag_json(since))

    def stuck(self, query: dict[str, str]) -> Answer:
        default = int(self.state.config.stuck_after_s)
        threshold = _int(query, "threshold_s", default, 0, 7 * 24 * 3600)
        return _json(self.state.stuck(threshold))

    def dead_letters(self, query: dict[str, str]) -> Answer:
        limit = _int(query, "limit", 50, 1, 500)
        records = self.state.browser.browse(query.get("topic") or None, limit)
        return _json({"records": records, "depth": self.state.dead_letter_depth()})

    def replay(self, auth: str | None, body: bytes) -> Answer:
        actor = self.state.gate.require_admin(auth)
        try:
            request = json.loads(body or b"{}")
            topic, partition = str(request["topic"]), int(request["partition"])
            offset = int(request["offset"])
        except (ValueError, KeyError, TypeError) as exc:
            raise BadRequest("body must be {topic, partition, offset}") from exc
        return _json({"replayed": self.state.browser.replay(topic, partition, offset, actor)})

    def trace(self, booking_id: str, query: dict[str, str]) -> Answer:
        if not booking_id or len(booking_id) > 128 or not booking_id.isprintable():
            raise BadRequest("invalid booking id")
        if query.get("format") == "json":
            return _json(journey(self.state.settings, self.state.db, booking_id))
        return 200, HTML, _page("trace.html")
