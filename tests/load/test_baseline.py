"""The conventional baseline books, sells out without overselling under concurrent
requests, and authorizes and captures exactly once per booking (on the real PostgreSQL)."""

from __future__ import annotations

import asyncio
import dataclasses
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import psycopg
import pytest

from load.baselines import db
from load.baselines.booking_service import BaselineApp, BaselineConfig
from load.bench_checks import check_baseline
from load.bench_system import Keys, start_baseline
from load.system_harness import GatewaySimulator
from pipelines.payments.gateways.resilient import ResilienceConfig, ResilientGateway
from pipelines.payments.gateways.simulated import SimulatedGateway, SimulatedGatewayConfig
from tessera.config import Settings

CAPACITY = 12
REQUESTS = 60


def _body(item: str, method: str = "pm_card_visa") -> dict[str, object]:
    return {"itemId": item, "quantity": 1, "paymentMethod": method}


@pytest.fixture
def baseline_db(stack: Settings) -> Settings:
    db.ensure_database(stack)
    return stack


@pytest.fixture
def keys(tmp_path: Path) -> Keys:
    return Keys(tmp_path / "home")


def test_sells_out_exactly_once_under_concurrency_with_one_capture_each(
    baseline_db: Settings, keys: Keys
) -> None:
    """In-process (the gateway's ledger is inspectable): 60 concurrent bookings from 15
    users for 12 seats, then every request replayed with its Idempotency-Key."""
    item = f"bl-{uuid.uuid4().hex[:10]}"
    db.add_items(baseline_db, [(item, CAPACITY, 1500)])
    users = [f"bl-user-{uuid.uuid4().hex[:6]}-{n}" for n in range(15)]
    tokens = keys.tokens(baseline_db, users)
    keys.tokens(baseline_db, ["warm"])  # writes the JWKS before the app reads it
    simulator = SimulatedGateway(SimulatedGatewayConfig(latency_ms=5, latency_jitter_ms=5))
    config = dataclasses.replace(
        BaselineConfig.from_env(baseline_db), jwks_path=keys.jwks, pool_size=8
    )
    app = BaselineApp(config, ResilientGateway(simulator, ResilienceConfig(bulkhead=64)))

    async def run() -> tuple[list[httpx.Response], list[httpx.Response]]:
        await app.startup()
        try:
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(transport=transport, base_url="http://bl") as client:

                async def post(n: int) -> httpx.Response:
                    headers = {
                        "Authorization": f"Bearer {tokens[n % len(tokens)]}",
                        "Idempotency-Key": f"key-{n}",
                    }
                    return await client.post("/api/v1/bookings", json=_body(item), headers=headers)

                first = await asyncio.gather(*(post(n) for n in range(REQUESTS)))
                again = await asyncio.gather(*(post(n) for n in range(REQUESTS)))
                return list(first), list(again)
        finally:
            await app.shutdown()

    first, again = asyncio.run(run())
    assert {r.status_code for r in first} == {201}
    outcomes = [(r.json()["status"], r.json()["reason"]) for r in first]
    assert outcomes.count(("COMPLETED", None)) == CAPACITY
    assert outcomes.count(("FAILED", "SOLD_OUT")) == REQUESTS - CAPACITY
    # Replays answer the stored booking and move nothing.
    assert {r.status_code for r in again} == {200}
    assert [r.json() for r in again] == [r.json() for r in first]
    completed = {r.json()["bookingId"] for r in first if r.json()["status"] == "COMPLETED"}
    audit = simulator.audit()
    assert set(audit) == completed
    for booking_id in completed:
        effects = audit[booking_id]
        assert (effects["authorizations"], effects["captures"]) == (1, 1), effects
        assert effects["voids"] == effects["refunds"] == 0
    accepted = {r.json()["bookingId"] for r in first}
    report = check_baseline(db.dsn(baseline_db), {item: CAPACITY}, accepted)
    assert report["ok"], report
    assert report["outcomes"] == {"COMPLETED": CAPACITY, "FAILED:SOLD_OUT": REQUESTS - CAPACITY}
    with psycopg.connect(db.dsn(baseline_db)) as conn:
        row = conn.execute(
            "SELECT capacity, held, sold FROM inventory WHERE item_id = %s", (item,)
        ).fetchone()
    assert row == (CAPACITY, 0, CAPACITY)


@pytest.fixture
def server(baseline_db: Settings, keys: Keys, tmp_path: Path) -> Iterator[str]:
    """Two workers share one gateway simulator process (a refund may reach either)."""
    keys.tokens(baseline_db, ["warm"])
    simulator = GatewaySimulator({"TESSERA_SIM_LATENCY_MS": "2"})
    try:
        env = {"TESSERA_GATEWAY": "simulated-http", "TESSERA_GATEWAY_URL": simulator.url}
        process, port = start_baseline(baseline_db, keys, workers=2, log_dir=tmp_path, env=env)
        yield f"http://127.0.0.1:{port}"
        process.stop()
    finally:
        simulator.stop()


def test_granian_server_books_declines_cancels_and_never_oversells(
    baseline_db: Settings, keys: Keys, server: str
) -> None:
    """The served baseline (2 granian workers): concurrent sell-out, a decline, a cancel."""
    item = f"bl-{uuid.uuid4().hex[:10]}"
    db.add_items(baseline_db, [(item, CAPACITY, 1500)])
    run = uuid.uuid4().hex[:8]  # booking ids derive from (user, key): fresh users per run
    tokens = keys.tokens(baseline_db, [f"bl-served-{run}-{n}" for n in range(10)])

    async def run() -> list[httpx.Response]:
        async with httpx.AsyncClient(base_url=server, timeout=30) as client:

            async def post(n: int, method: str = "pm_card_visa") -> httpx.Response:
                headers = {"Authorization": f"Bearer {tokens[n % 10]}", "Idempotency-Key": f"s{n}"}
                return await client.post(
                    "/api/v1/bookings", json=_body(item, method), headers=headers
                )

            return list(await asyncio.gather(*(post(n) for n in range(REQUESTS))))

    answers = asyncio.run(run())
    statuses = [r.json()["status"] for r in answers]
    assert statuses.count("COMPLETED") == CAPACITY
    assert statuses.count("FAILED") == REQUESTS - CAPACITY
    accepted = {r.json()["bookingId"] for r in answers}
    report = check_baseline(db.dsn(baseline_db), {item: CAPACITY}, accepted)
    assert report["ok"], report

    other = f"bl-{uuid.uuid4().hex[:10]}"
    db.add_items(baseline_db, [(other, 5, 900)])
    auth = {"Authorization": f"Bearer {tokens[0]}"}
    declined = httpx.post(
        f"{server}/api/v1/bookings",
        json=_body(other, "pm_card_chargeDeclined"),
        headers={**auth, "Idempotency-Key": "declined"},
    ).json()
    assert (declined["status"], declined["reason"]) == ("FAILED", "PAYMENT_DECLINED")
    booked = httpx.post(
        f"{server}/api/v1/bookings", json=_body(other), headers={**auth, "Idempotency-Key": "b"}
    ).json()
    assert booked["status"] == "COMPLETED"
    cancelled = httpx.put(f"{server}/api/v1/bookings/{booked['bookingId']}/cancel", headers=auth)
    assert cancelled.json().get("status") == "CANCELLED", cancelled.text
    item_view = httpx.get(f"{server}/api/v1/inventory/{other}", headers=auth).json()
    assert (item_view["held"], item_view["sold"], item_view["available"]) == (0, 0, 5)
    mine = httpx.get(f"{server}/api/v1/bookings?limit=5", headers=auth).json()["items"]
    assert booked["bookingId"] in {b["bookingId"] for b in mine}
    stranger = keys.tokens(baseline_db, [f"stranger-{run}"])[0]
    hidden = httpx.get(
        f"{server}/api/v1/bookings/{booked['bookingId']}",
        headers={"Authorization": f"Bearer {stranger}"},
    )
    assert hidden.status_code == 404
    assert httpx.get(f"{server}/api/v1/bookings/x", headers={}).status_code == 401
