"""The conventional baseline: a synchronous booking service, as the seed's design builds it.

POST /api/v1/bookings does the whole saga inside the request and answers its outcome:

1. reserve: one PostgreSQL round trip (`baseline_reserve`, schema.sql) inserts the booking
   (idempotent on booking_id = uuid5 of the caller and Idempotency-Key, as Tessera derives
   it) and holds inventory with a conditional UPDATE (`capacity - sold - held >= qty`);
   no hold, no booking: FAILED SOLD_OUT.
2. authorize the payment through the same simulated gateway Tessera's payment worker
   uses (`SimulatedGateway`, TESSERA_SIM_* latency, behind the same ResilientGateway with
   TESSERA_GATEWAY_TIMEOUT_S / _ATTEMPTS / _BULKHEAD); no database connection is held
   while the gateway works.
3. confirm: one round trip (`baseline_confirm`): hold -> sold, booking CONFIRMED, payment
   row and transaction row.
4. capture, then complete: one round trip (`baseline_complete`): COMPLETED, captured.

A decline (or a failed call) releases the hold and answers FAILED. Every statement is a
server-side prepared statement (psycopg `prepare=True`) on a pooled connection in
autocommit mode: each step is one short transaction in one round trip, so a hot item's row
lock is held only from its UPDATE to that step's commit. Bearer JWTs are verified (RS256,
iss/aud/exp) against the same JWKS as Tessera's ingress, with verified tokens cached.

Also: GET /api/v1/bookings/{id}, GET /api/v1/bookings (own, newest first),
PUT /api/v1/bookings/{id}/cancel (refund + release), GET/PUT /api/v1/inventory/{itemId},
GET /healthz. It is a benchmark baseline, not a product: no rate limits, no live push.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import os
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Annotated, Any

import jwt
import msgspec
from jwt.algorithms import RSAAlgorithm
from msgspec import Meta, Struct
from psycopg_pool import AsyncConnectionPool

from pipelines.payments.gateways.base import PaymentGateway, idempotency_key
from pipelines.payments.gateways.factory import build_gateway
from pipelines.payments.gateways.resilient import ResilienceConfig, ResilientGateway
from pipelines.payments.gateways.simulated import SimulatedGateway, SimulatedGatewayConfig
from tessera.config import Settings

log = logging.getLogger("tessera.baseline")

Scope = dict[str, Any]
Receive = Callable[[], Awaitable[dict[str, Any]]]
Send = Callable[[dict[str, Any]], Awaitable[None]]

# The same namespace as schemas/command_ids.py: one (caller, Idempotency-Key) -> one booking id.
COMMAND_NAMESPACE = uuid.UUID("6f1f3c1e-4a55-5b0e-9d53-746573736572")
BOOKING_NAMESPACE = uuid.UUID("a2b6d0f4-1c8e-5f7a-8b3d-626f6f6b696e")
MAX_BODY = 16 * 1024

RESERVE = "SELECT * FROM baseline_reserve(%s, %s, %s, %s)"
CONFIRM = "SELECT baseline_confirm(%s, %s, %s, %s, %s)"
COMPLETE = "SELECT baseline_complete(%s, %s, %s, %s)"
FAIL = "SELECT baseline_fail(%s, %s, %s, %s)"
RECORD_TX = (
    "INSERT INTO payment_transactions VALUES (%s, %s, %s, %s, %s, %s, now())"
    " ON CONFLICT (transaction_id) DO NOTHING"
)
BOOKING_COLUMNS = (
    "SELECT booking_id, user_id, item_id, quantity, status, reason, amount_minor, currency,"
    " payment_id, version, created_at, updated_at FROM bookings"
)
GET_BOOKING = BOOKING_COLUMNS + " WHERE booking_id = %s"
LIST_BOOKINGS = BOOKING_COLUMNS + " WHERE user_id = %s ORDER BY created_at DESC LIMIT %s"
GET_ITEM = (
    "SELECT item_id, capacity, held, sold, price_minor, currency FROM inventory WHERE item_id = %s"
)
SET_ITEM = (
    "INSERT INTO inventory (item_id, capacity, price_minor, currency) VALUES (%s, %s, %s, %s)"
    " ON CONFLICT (item_id) DO UPDATE SET capacity = EXCLUDED.capacity,"
    " price_minor = EXCLUDED.price_minor, currency = EXCLUDED.currency,"
    " version = inventory.version + 1"
)

ApiId = Annotated[str, Meta(min_length=1, max_length=128)]


class CreateBookingRequest(Struct, frozen=True, forbid_unknown_fields=True, rename="camel"):
    item_id: ApiId
    quantity: Annotated[int, Meta(ge=1, le=1000)]
    payment_method: Annotated[str, Meta(min_length=1, max_length=64)]


class Money(Struct, frozen=True):
    amount_minor: int
    currency: str = "USD"


class SetInventoryRequest(Struct, frozen=True, forbid_unknown_fields=True, rename="camel"):
    capacity: Annotated[int, Meta(ge=0, le=10_000_000)]
    price: Money | None = None


class BookingResult(Struct, frozen=True, rename="camel"):
    booking_id: str
    status: str
    reason: str | None = None
    amount: Money | None = None


class BookingView(Struct, frozen=True, rename="camel"):
    booking_id: str
    user_id: str
    item_id: str
    quantity: int
    status: str
    reason: str | None
    amount: Money | None
    payment_id: str | None
    version: int
    created_at: datetime
    updated_at: datetime


class HttpError(Exception):
    def __init__(self, status: int, code: str, detail: str = "") -> None:
        super().__init__(detail or code)
        self.status, self.code, self.detail = status, code, detail or code


@dataclass(frozen=True)
class BaselineConfig:
    dsn: str
    jwks_path: Path
    issuer: str = "tessera-dev"
    audience: str = "tessera-api"
    pool_size: int = 16
    resilience: ResilienceConfig = dataclasses.field(default_factory=ResilienceConfig)
    simulator: SimulatedGatewayConfig = dataclasses.field(default_factory=SimulatedGatewayConfig)
    # "simulated" keeps payments in each worker's memory: a refund landing on another
    # worker finds no payment. Several workers that refund need "simulated-http" (one
    # simulator process, as a real gateway is one service) at `gateway_url`.
    gateway: str = "simulated"
    gateway_url: str = ""

    @classmethod
    def from_env(cls, settings: Settings) -> BaselineConfig:
        """Tessera's own settings where they exist: gateway policy, JWKS, issuer, audience."""
        return cls(
            dsn=settings.postgres_dsn("baseline"),
            jwks_path=Path(
                os.environ.get("TESSERA_JWKS", str(settings.home / "keys" / "jwks.json"))
            ),
            issuer=os.environ.get("TESSERA_JWT_ISSUER", "tessera-dev"),
            audience=os.environ.get("TESSERA_JWT_AUDIENCE", "tessera-api"),
            pool_size=int(os.environ.get("BASELINE_POOL_SIZE", "16")),
            resilience=ResilienceConfig(
                timeout_s=settings.gateway_timeout_s,
                max_attempts=settings.gateway_attempts,
                bulkhead=settings.gateway_bulkhead,
            ),
            simulator=SimulatedGatewayConfig.from_env(),
            gateway=settings.gateway,
            gateway_url=settings.gateway_url,
        )


@dataclass(frozen=True)
class Caller:
    sub: str
    roles: frozenset[str]
    expires_at: float

    @property
    def privileged(self) -> bool:
        return bool(self.roles & {"ADMIN", "SUPPORT"})


class JwtVerifier:
    """RS256 only, iss/aud/exp/sub required; verified tokens cached until they expire."""

    def __init__(self, config: BaselineConfig) -> None:
        self.config = config
        keys = json.loads(config.jwks_path.read_text())["keys"]
        self.keys = {k["kid"]: RSAAlgorithm.from_jwk(k) for k in keys if k.get("kty") == "RSA"}
        self.cache: dict[str, Caller] = {}

    def verify(self, authorization: str | None) -> Caller:
        if not authorization or authorization[:7].lower() != "bearer ":
            raise HttpError(401, "MISSING_TOKEN")
        token = authorization[7:].strip()
        caller = self.cache.get(token)
        if caller is not None and caller.expires_at > time.time():
            return caller
        try:
            kid = jwt.get_unverified_header(token).get("kid")
            key = self.keys.get(kid) if isinstance(kid, str) else None
            if key is None:
                raise HttpError(401, "INVALID_TOKEN", "unknown kid")
            claims = jwt.decode(
                token,
                key,  # type: ignore[arg-type]
                algorithms=["RS256"],
                audience=self.config.audience,
                issuer=self.config.issuer,
                options={"require": ["exp", "iss", "aud", "sub"]},
            )
        except jwt.PyJWTError as exc:
            raise HttpError(401, "INVALID_TOKEN", str(exc)) from exc
        raw = claims.get("roles", [])
        caller = Caller(
            str(claims["sub"]),
            frozenset(raw if isinstance(raw, list) else [raw]),
            float(claims["exp"]),
        )
        if len(self.cache) >= 10_000:
            self.cache.clear()
        self.cache[token] = caller
        return caller


def booking_id_for(sub: str, key: str) -> str:
    command = uuid.uuid5(COMMAND_NAMESPACE, f"{sub}\n{key}")
    return str(uuid.uuid5(BOOKING_NAMESPACE, str(command)))


def money(amount: int | None, currency: str | None) -> Money | None:
    return None if amount is None else Money(int(amount), (currency or "USD").strip())


_ENCODER = msgspec.json.Encoder()


def _configured_gateway(config: BaselineConfig) -> PaymentGateway:
    if config.gateway == "simulated-http":
        return build_gateway(
            "simulated-http", resilience=config.resilience, base_url=config.gateway_url
        )
    return ResilientGateway(SimulatedGateway(config.simulator), config.resilience, name="simulated")


class BaselineApp:
    def __init__(self, config: BaselineConfig, gateway: PaymentGateway | None = None) -> None:
        self.config = config
        self.auth = JwtVerifier(config)
        self.gateway = gateway or _configured_gateway(config)
        self.pool = AsyncConnectionPool(
            config.dsn,
            min_size=config.pool_size,
            max_size=config.pool_size,
            open=False,
            kwargs={"autocommit": True},
            name="baseline",
        )
        self._create_decoder = msgspec.json.Decoder(CreateBookingRequest)
        self._inventory_decoder = msgspec.json.Decoder(SetInventoryRequest)

    # --- ASGI -------------------------------------------------------------------------

    async def startup(self) -> None:
        await self.pool.open(wait=True, timeout=30)

    async def shutdown(self) -> None:
        await self.pool.close()
        await self.gateway.close()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            while True:
                message = await receive()
                if message["type"] == "lifespan.startup":
                    await self.startup()
                    await send({"type": "lifespan.startup.complete"})
                elif message["type"] == "lifespan.shutdown":
                    await self.shutdown()
                    await send({"type": "lifespan.shutdown.complete"})
                    return
        if scope["type"] != "http":
            return
        try:
            status, payload = await self.route(scope, receive)
        except HttpError as exc:
            status, payload = exc.status, {"code": exc.code, "detail": exc.detail}
        except Exception:  # noqa: BLE001 - any failure is a logged 500
            log.exception("baseline request failed")
            status, payload = 500, {"code": "INTERNAL", "detail": "unexpected error"}
        body = _ENCODER.encode(payload)
        await send(
            {
                "type": "http.response.start",
                "status": status,
                "headers": [
                    (b"content-type", b"application/json"),
                    (b"content-length", str(len(body)).encode()),
                ],
            }
        )
        await send({"type": "http.response.body", "body": body})

    async def route(self, scope: Scope, receive: Receive) -> tuple[int, Any]:
        method, path = scope["method"], scope["path"]
        if path == "/healthz":
            return 200, {"status": "ok"}
        headers = dict(scope["headers"])
        auth = headers.get(b"authorization")
        caller = self.auth.verify(auth.decode("latin-1") if auth else None)
        parts = path.strip("/").split("/")
        if parts[:3] == ["api", "v1", "bookings"]:
            if len(parts) == 3 and method == "POST":
                key = headers.get(b"idempotency-key")
                if not key:
                    raise HttpError(400, "IDEMPOTENCY_KEY_REQUIRED")
                body = await read_body(receive)
                return await self.create_booking(caller, key.decode("latin-1"), body)
            if len(parts) == 3 and method == "GET":
                return 200, await self.list_bookings(caller, scope)
            if len(parts) == 4 and method == "GET":
                return 200, await self.get_booking(caller, parts[3])
            if len(parts) == 5 and parts[4] == "cancel" and method == "PUT":
                return 200, await self.cancel_booking(caller, parts[3])
        if parts[:3] == ["api", "v1", "inventory"] and len(parts) == 4:
            if method == "GET":
                return 200, await self.get_item(parts[3])
            if method == "PUT":
                if "ADMIN" not in caller.roles:
                    raise HttpError(403, "ROLE_NOT_ALLOWED")
                return 200, await self.set_item(parts[3], await read_body(receive))
        raise HttpError(404, "NO_ROUTE")

    # --- the booking flow -------------------------------------------------------------

    async def create_booking(self, caller: Caller, key: str, body: bytes) -> tuple[int, Any]:
        try:
            request = self._create_decoder.decode(body)
        except msgspec.DecodeError as exc:  # ValidationError is a DecodeError
            raise HttpError(422, "INVALID_BODY", str(exc)) from exc
        booking_id = booking_id_for(caller.sub, key)
        async with self.pool.connection() as conn:
            cur = await conn.execute(
                RESERVE,
                (booking_id, caller.sub, request.item_id, request.quantity),
                prepare=True,
            )
            created, status, reason, amount, currency = await cur.fetchone()  # type: ignore[misc]
        if not created or status != "PENDING":
            result = BookingResult(booking_id, status, reason, money(amount, currency))
            return (201 if created else 200), result
        auth_key = idempotency_key(booking_id, "AUTHORIZE")
        authorized = await self.gateway.authorize(
            booking_id=booking_id,
            amount_minor=amount,
            currency=currency,
            payment_method=request.payment_method,
            idempotency_key=auth_key,
        )
        if not authorized.succeeded:
            why = "PAYMENT_DECLINED" if authorized.outcome == "DECLINED" else "PAYMENT_FAILED"
            await self._fail(booking_id, "FAILED", why, None, auth_key, "AUTHORIZE", authorized)
            return 201, BookingResult(booking_id, "FAILED", why, money(amount, currency))
        payment_id = authorized.gateway_ref
        async with self.pool.connection() as conn:
            await conn.execute(
                CONFIRM, (booking_id, payment_id, auth_key, amount, currency), prepare=True
            )
        capture_key = idempotency_key(booking_id, "CAPTURE")
        captured = await self.gateway.capture(
            gateway_ref=payment_id or "", amount_minor=amount, idempotency_key=capture_key
        )
        if not captured.succeeded:
            voided = await self.gateway.void(
                gateway_ref=payment_id or "", idempotency_key=idempotency_key(booking_id, "VOID")
            )
            state = "VOIDED" if voided.succeeded else "FAILED"
            await self._fail(
                booking_id, "FAILED", "PAYMENT_FAILED", state, capture_key, "CAPTURE", captured
            )
            return 201, BookingResult(
                booking_id, "FAILED", "PAYMENT_FAILED", money(amount, currency)
            )
        async with self.pool.connection() as conn:
            await conn.execute(
                COMPLETE, (booking_id, payment_id, capture_key, amount), prepare=True
            )
        return 201, BookingResult(booking_id, "COMPLETED", None, money(amount, currency))

    async def _fail(
        self,
        booking_id: str,
        status: str,
        reason: str,
        payment_status: str | None,
        tx_key: str,
        operation: str,
        result: Any,
    ) -> None:
        async with self.pool.connection() as conn, conn.pipeline(), conn.transaction():
            await conn.execute(FAIL, (booking_id, status, reason, payment_status), prepare=True)
            await conn.execute(
                RECORD_TX,
                (tx_key, booking_id, operation, result.outcome, None, result.gateway_ref),
                prepare=True,
            )

    async def cancel_booking(self, caller: Caller, booking_id: str) -> BookingView:
        view = await self.get_booking(caller, booking_id)
        if view.status != "COMPLETED":
            code = "BOOKING_TERMINAL" if view.status in ("FAILED", "CANCELLED") else "IN_PROGRESS"
            raise HttpError(409, code, f"booking is {view.status}")
        refund_key = idempotency_key(booking_id, "REFUND")
        amount = view.amount.amount_minor if view.amount else 0
        refunded = await self.gateway.refund(
            gateway_ref=view.payment_id or "", amount_minor=amount, idempotency_key=refund_key
        )
        if not refunded.succeeded:
            raise HttpError(502, "REFUND_FAILED", refunded.detail)
        await self._fail(
            booking_id, "CANCELLED", "USER_CANCELLED", "REFUNDED", refund_key, "REFUND", refunded
        )
        return await self.get_booking(caller, booking_id)

    # --- reads ------------------------------------------------------------------------

    async def get_booking(self, caller: Caller, booking_id: str) -> BookingView:
        async with self.pool.connection() as conn:
            row = await (await conn.execute(GET_BOOKING, (booking_id,), prepare=True)).fetchone()
        if row is None or (row[1] != caller.sub and not caller.privileged):
            raise HttpError(404, "NOT_FOUND")
        return view_of(row)

    async def list_bookings(self, caller: Caller, scope: Scope) -> dict[str, Any]:
        limit = 20
        for pair in scope.get("query_string", b"").decode().split("&"):
            name, _, value = pair.partition("=")
            if name == "limit" and value.isdigit():
                limit = max(1, min(100, int(value)))
        async with self.pool.connection() as conn:
            cur = await conn.execute(LIST_BOOKINGS, (caller.sub, limit), prepare=True)
            rows = await cur.fetchall()
        return {"items": [view_of(r) for r in rows], "nextCursor": None}

    async def get_item(self, item_id: str) -> dict[str, Any]:
        async with self.pool.connection() as conn:
            row = await (await conn.execute(GET_ITEM, (item_id,), prepare=True)).fetchone()
        if row is None:
            raise HttpError(404, "NOT_FOUND")
        item, capacity, held, sold, price, currency = row
        return {
            "itemId": item,
            "capacity": capacity,
            "held": held,
            "sold": sold,
            "available": capacity - held - sold,
            "price": {"amount_minor": price, "currency": currency.strip()},
        }

    async def set_item(self, item_id: str, body: bytes) -> dict[str, Any]:
        try:
            request = self._inventory_decoder.decode(body)
        except msgspec.DecodeError as exc:
            raise HttpError(422, "INVALID_BODY", str(exc)) from exc
        price = request.price or Money(0)
        async with self.pool.connection() as conn:
            await conn.execute(
                SET_ITEM, (item_id, request.capacity, price.amount_minor, price.currency)
            )
        return await self.get_item(item_id)


def view_of(row: Any) -> BookingView:
    booking_id, user, item, qty, status, reason, amount, currency, payment, version, c, u = row
    return BookingView(
        booking_id, user, item, qty, status, reason, money(amount, currency), payment, version, c, u
    )


async def read_body(receive: Receive) -> bytes:
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > MAX_BODY:
            raise HttpError(413, "PAYLOAD_TOO_LARGE")
        chunks.append(chunk)
        if not message.get("more_body", False):
            return b"".join(chunks)


def create_app(settings: Settings) -> BaselineApp:
    return BaselineApp(BaselineConfig.from_env(settings))
