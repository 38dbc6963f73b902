"""The request pipeline of an API route:

authenticate -> role, path, query, body (local checks) -> admission (one Redis script:
rate limits, idempotency claim, sold-out gate, open-holds slot) -> handler -> store the
response with the handler's writes (one pipeline). A request failing a local check still spends rate
budget (a flood of bad tokens is limited by IP). Without Redis a state-changing request
answers 503 (Redis guards rate, holds and idempotency, so going on could duplicate); a
read goes on without rate limiting.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Callable

import msgspec

from .admission import Admission, Claim, Hold, Outcome
from .exceptions import (
    ApiError,
    BackendUnavailable,
    BadRequest,
    Conflict,
    Forbidden,
    NotFound,
    TooManyRequests,
)
from .http import HttpRequest, HttpResponse
from .idempotency import fingerprint
from .metrics import IDEMPOTENCY_OUTCOMES, RATE_LIMITED, SOLD_OUT_AT_ADMISSION
from .router import Route
from .services import Services
from .validation import parse_body, parse_query, valid_id, valid_token

Render = Callable[[HttpRequest, Exception], HttpResponse]


async def run(
    req: HttpRequest, route: Route, svc: Services, extra: dict[str, str], render: Render
) -> HttpResponse:
    if route.roles is None:
        return await route.handler(req, svc)
    claim = hold = None
    try:
        req.principal = await svc.auth.authenticate(req.headers.get("authorization"))
        await _check(req, route, svc)
        if req.idempotency_key is not None:
            canonical = msgspec.json.encode(req.body) if req.body is not None else b""
            fp = fingerprint(route.name, req.path, canonical)
            claim = svc.idempotency.claim(req.user.sub, req.idempotency_key, fp)
        hold = route.prepare(req, svc) if route.prepare is not None else None
    except ApiError:
        with contextlib.suppress(BackendUnavailable):  # the error stands even without Redis
            await _admit(req, route, svc, extra)  # spend the rate budget; 429 wins
        raise
    replay = await _admit(req, route, svc, extra, claim, hold)
    if replay is not None:
        return replay
    if claim is None:
        return await route.handler(req, svc)
    response = None
    try:
        try:
            response = await route.handler(req, svc)
        except (ApiError, BackendUnavailable) as exc:
            response = render(req, exc)
    finally:
        await svc.idempotency.finish(claim, response, hold, req.writes)
    return response


async def _check(req: HttpRequest, route: Route, svc: Services) -> None:
    roles = route.roles or frozenset()
    if req.user.roles.isdisjoint(roles):
        allowed = ", ".join(sorted(roles))
        raise Forbidden(f"{route.name} needs one of: {allowed}", code="ROLE_NOT_ALLOWED")
    if not all(valid_id(v) for v in req.params.values()):
        raise NotFound("no such resource", code="NOT_FOUND")
    req.query = parse_query(req, route)
    req.body = await parse_body(req, route, svc.config.limits.max_body_bytes)
    if route.idempotency is not None:
        key = req.headers.get("idempotency-key")
        if key is None and route.idempotency == "required":
            raise BadRequest(
                "an Idempotency-Key header is required", code="IDEMPOTENCY_KEY_REQUIRED"
            )
        if key is not None and not valid_token(key, 255):
            raise BadRequest(
                "Idempotency-Key: 1-255 visible ASCII characters", code="INVALID_IDEMPOTENCY_KEY"
            )
        req.idempotency_key = key


async def _admit(
    req: HttpRequest,
    route: Route,
    svc: Services,
    extra: dict[str, str],
    claim: Claim | None = None,
    hold: Hold | None = None,
) -> HttpResponse | None:
    """Admit the request; a stored response to replay, or None to go on to the handler."""
    user = req.principal.sub if req.principal is not None else None
    deadline, delay, charge = 0.0, 0.005, True
    while True:
        try:
            admission: Admission = await svc.admitter.admit(
                req.client_ip, user, claim, hold, charge=charge
            )
        except BackendUnavailable:
            if route.mutating and req.principal is not None:
                raise
            return None  # reads (and requests failing anyway) go on without Redis
        if charge:
            extra.update(admission.rate.headers())
        if admission.outcome is Outcome.RATE_LIMITED:
            RATE_LIMITED.labels("request").inc()
            raise TooManyRequests("rate limit exceeded")  # headers travel in `extra`
        if admission.outcome is Outcome.HOLDS_CAP:
            RATE_LIMITED.labels("holds").inc()
            cap = svc.config.limits.holds_cap
            raise TooManyRequests(f"the user has {cap} bookings pending already", code="HOLDS_CAP")
        if admission.outcome is Outcome.SOLD_OUT:
            SOLD_OUT_AT_ADMISSION.inc()
            raise Conflict("the item cannot cover this quantity any more", code="SOLD_OUT")
        if admission.outcome is Outcome.ADMITTED:
            if claim is not None:
                IDEMPOTENCY_OUTCOMES["claimed"].inc()
            return None
        fp = claim.fingerprint if claim is not None else ""  # KEY_EXISTS answers a claim
        replay = svc.idempotency.existing(admission.record, fp)
        if replay is not None:
            return replay
        now = time.monotonic()
        if not deadline:  # the first wait: the answer may take up to the lock's lifetime
            deadline = now + svc.idempotency.wait_s
        if now > deadline:
            IDEMPOTENCY_OUTCOMES["in_flight"].inc()
            raise Conflict(
                "a request with this Idempotency-Key is still in progress",
                code="IDEMPOTENCY_IN_FLIGHT",
                headers={"Retry-After": "1"},
            )
        await asyncio.sleep(delay)  # the first request is still running: wait for its answer
        delay, charge = min(delay * 2, 0.1), False
