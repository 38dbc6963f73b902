"""The ASGI application: routing, the request pipeline, problem+json errors, RED metrics.

pipeline.py runs an API request through auth, limits, validation and idempotency. Every
ApiError becomes an RFC 9457 problem; anything else is logged with its context and
answers 500. Each route's requests, errors (by code) and latency are counted.
"""

from __future__ import annotations

import contextlib
import gc
import logging
import sys
import time
from collections.abc import AsyncIterator

from tessera.config import Settings

from . import pipeline
from .config import IngressConfig
from .exceptions import ApiError, BackendUnavailable, MethodNotAllowed, NotFound
from .http import HttpRequest, HttpResponse, Receive, Scope, Send, StreamResponse, problem_response
from .ids import unique_token
from .metrics import IN_FLIGHT, RouteMetrics
from .openapi import render as render_openapi
from .router import Router
from .routes import build_routes
from .services import Services
from .validation import valid_token

log = logging.getLogger("tessera.ingress")
_KNOWN_METHODS = frozenset({"GET", "POST", "PUT", "DELETE", "PATCH", "HEAD", "OPTIONS"})


class IngressApp:
    def __init__(self, settings: Settings, config: IngressConfig) -> None:
        self.settings, self.config = settings, config
        self.routes = build_routes()
        self.router = Router(self.routes)
        self.openapi = render_openapi(self.routes)
        self.services: Services | None = None
        self._metrics = {id(r): RouteMetrics(r.name, r.method) for r in self.routes}
        self.in_flight = 0  # read by the gauge at scrape time, not updated per request
        IN_FLIGHT.set_function(lambda: self.in_flight)
        self._unmatched = {m: RouteMetrics("unmatched", m) for m in (*_KNOWN_METHODS, "OTHER")}

    async def startup(self) -> None:
        if self.services is None:
            self.services = await Services.start(self.settings, self.config, self.openapi)

    async def shutdown(self) -> None:
        if self.services is not None:
            services, self.services = self.services, None
            await services.close()

    @contextlib.asynccontextmanager
    async def running(self) -> AsyncIterator[IngressApp]:
        """Start and stop the services around a block (tests drive the app without lifespan)."""
        await self.startup()
        try:
            yield self
        finally:
            await self.shutdown()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            await self._http(scope, receive, send)
        elif scope["type"] == "lifespan":
            await self._lifespan(receive, send)

    async def _lifespan(self, receive: Receive, send: Send) -> None:
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                try:
                    await self.startup()
                except Exception as exc:
                    log.exception("ingress startup failed")
                    await send({"type": "lifespan.startup.failed", "message": str(exc)})
                    return
                # What startup allocated lives as long as the worker: moved out of the
                # collector's way, so collections triggered by requests scan only requests.
                gc.freeze()
                # granian hands each new request to this loop from its own thread, which
                # needs the GIL; while the loop holds it, CPython makes that thread wait
                # the switch interval (5 ms by default) before it forces a hand-over, and
                # under load that wait is in every request's latency.
                sys.setswitchinterval(self.config.switch_interval_ms / 1000)
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                await self.shutdown()
                await send({"type": "lifespan.shutdown.complete"})
                return

    async def _http(self, scope: Scope, receive: Receive, send: Send) -> None:
        started = time.perf_counter()
        self.in_flight += 1
        raw = scope.get("raw_path")
        raw_path = raw.split(b"?", 1)[0].decode("latin-1") if raw else None
        methods, params = self.router.match(scope["path"], raw_path)
        route = methods.get(scope["method"])
        request = HttpRequest(scope, receive, route, params)
        rid = request.headers.get("x-request-id")
        request.request_id = rid if valid_token(rid, 128) else unique_token()  # type: ignore[assignment]
        extra = {"X-Request-Id": request.request_id}
        try:
            if route is None:
                if methods:
                    allow = ", ".join(sorted(methods))
                    raise MethodNotAllowed(f"use {allow}", headers={"Allow": allow})
                raise NotFound("no such endpoint", code="NO_ROUTE")
            if self.services is None:
                raise BackendUnavailable("ingress", "starting up")
            request.client_ip = self._client_ip(request)
            response = await pipeline.run(request, route, self.services, extra, self._render_error)
        except Exception as exc:  # every failure becomes a problem response
            response = self._render_error(request, exc)
        metrics = (
            self._metrics[id(route)]
            if route is not None
            else self._unmatched.get(scope["method"], self._unmatched["OTHER"])
        )
        try:
            if isinstance(response, StreamResponse):
                await self._stream(response, send, receive, extra)
            else:
                await response.send(send, extra)
        finally:
            self.in_flight -= 1
            metrics.observe(response.status, time.perf_counter() - started, response.code)

    async def _stream(
        self, response: StreamResponse, send: Send, receive: Receive, extra: dict[str, str]
    ) -> None:
        headers = [(b"content-type", response.content_type.encode())]
        headers += [
            (k.lower().encode(), v.encode("latin-1"))
            for k, v in {**response.headers, **extra}.items()
        ]
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        await response.producer(send, receive)

    def _render_error(self, request: HttpRequest, exc: Exception) -> HttpResponse:
        if isinstance(exc, BackendUnavailable):
            exc = exc.to_api()
        if not isinstance(exc, ApiError):
            log.exception(
                "unhandled error",
                extra={"route": request.route.name if request.route else None, "path": request.path,
                       "method": request.method, "request_id": request.request_id},
            )  # fmt: skip
            exc = ApiError("unexpected error; it has been logged")
        elif exc.status >= 500:
            log.warning(
                "request failed",
                extra={"route": request.route.name if request.route else None, "code": exc.code,
                       "detail": exc.detail, "request_id": request.request_id},
            )  # fmt: skip
        return problem_response(exc, request.path, request.request_id)

    def _client_ip(self, req: HttpRequest) -> str:
        if self.config.trust_forwarded:
            forwarded = req.headers.get("x-forwarded-for")
            if forwarded:
                return forwarded.rsplit(",", 1)[-1].strip()
        client = req.scope.get("client")
        return client[0] if client else "unknown"


def create_app(settings: Settings, config: IngressConfig | None = None) -> IngressApp:
    return IngressApp(settings, config or IngressConfig.from_env(settings))
