"""HTTP plumbing of the ops process: a threaded stdlib server, RED metrics per route, errors
answered as JSON with their status and logged with context."""

from __future__ import annotations

import json
import logging
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from .api import OpsApi
from .exceptions import OpsError
from .metrics import ERRORS, REQUEST_SECONDS, REQUESTS

logger = logging.getLogger(__name__)
MAX_BODY = 64 * 1024


def make_server(api: OpsApi, host: str, port: int) -> ThreadingHTTPServer:
    class Handler(BaseHTTPRequestHandler):
        server_version = "tessera-ops"
        protocol_version = "HTTP/1.1"

        def do_GET(self) -> None:  # noqa: N802 - stdlib naming
            self._serve("GET")

        def do_POST(self) -> None:  # noqa: N802
            self._serve("POST")

        def _serve(self, method: str) -> None:
            started = time.perf_counter()
            url = urlsplit(self.path)
            route = api.route_name(method, url.path)
            try:
                length = min(int(self.headers.get("Content-Length") or 0), MAX_BODY)
                body = self.rfile.read(length) if length else b""
                query = dict(parse_qsl(url.query))
                auth = self.headers.get("Authorization")
                status, content_type, payload = api.handle(method, url.path, query, auth, body)
            except OpsError as exc:
                status, content_type = exc.status, "application/json"
                payload = json.dumps({"error": exc.code, "detail": str(exc)}).encode()
                if status >= 500:
                    logger.warning("request failed", extra={"route": route, "error": str(exc)})
            except Exception as exc:
                ERRORS.labels("http").inc()
                logger.exception("request crashed", extra={"route": route, "method": method})
                status, content_type = 500, "application/json"
                payload = json.dumps({"error": "INTERNAL", "detail": type(exc).__name__}).encode()
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(payload)))
            self.send_header("Cache-Control", "no-store")
            self.end_headers()
            self.wfile.write(payload)
            REQUESTS.labels(route, method, str(status)).inc()
            REQUEST_SECONDS.labels(route).observe(time.perf_counter() - started)

        def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
            return None  # RED metrics instead of an access log line per request

    server = ThreadingHTTPServer((host, port), Handler)
    server.daemon_threads = True
    return server
