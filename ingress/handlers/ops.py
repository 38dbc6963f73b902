"""Operational endpoints: liveness, readiness, Prometheus metrics, the OpenAPI document."""

from __future__ import annotations

import time

from ..exceptions import BackendUnavailable
from ..http import HttpRequest, HttpResponse, json_response
from ..metrics import render
from ..models import Health
from ..services import Services

_READY_CACHE_S = 1.0


async def healthz(req: HttpRequest, svc: Services) -> HttpResponse:
    return json_response(200, Health(status="ok"))


async def readyz(req: HttpRequest, svc: Services) -> HttpResponse:
    """Ready when the producer reaches the broker (booking-commands exists) and Redis answers."""
    now = time.monotonic()
    cached = svc.ready_cache
    if cached is not None and now - cached[0] < _READY_CACHE_S:
        return cached[1]
    checks = {"kafka": "ok", "redis": "ok"}
    if not await svc.producer.ready(svc.topics.booking_commands):
        checks["kafka"] = svc.producer.last_error or "broker or topic unreachable"
    try:
        with svc.gate.guard("ping"):
            await svc.gate.client.ping()
    except BackendUnavailable as exc:
        checks["redis"] = str(exc)
    ok = all(v == "ok" for v in checks.values())
    response = json_response(
        200 if ok else 503, Health(status="ok" if ok else "unavailable", checks=checks)
    )
    svc.ready_cache = (now, response)
    return response


async def metrics(req: HttpRequest, svc: Services) -> HttpResponse:
    body, content_type = render()
    return HttpResponse(200, body, content_type)


async def openapi(req: HttpRequest, svc: Services) -> HttpResponse:
    return HttpResponse(200, svc.openapi, "application/json")
