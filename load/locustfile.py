"""Locust: a realistic mix of users on Tessera's HTTP API.

    uv run python -m load.bench serve       # Tessera + ingress on isolated topics; prints the URL
    LOCUST_SCENARIO=spread uv run locust -f load/locustfile.py --headless -u 100 -r 20 -t 60s \\
        --host http://127.0.0.1:<port> --csv load/results/locust-spread
    LOCUST_SCENARIO=flash  uv run locust -f load/locustfile.py --headless -u 200 -r 50 -t 60s \\
        --host http://127.0.0.1:<port> --csv load/results/locust-flash

(or against `make up`'s ingress, http://127.0.0.1:18080). The CSVs (`--csv PREFIX`) hold
every request name's counts and percentiles, plus the journeys below.

Each simulated user has its own JWT (a USER token minted with the local development key,
as `tessera token` does: the ingress must trust $TESSERA_HOME/keys/jwks.json) and its own
client address (X-Forwarded-For, which `bench serve` trusts), so the per-user and per-IP
rate limits apply as in production. A user:

- books (weight 6): POST /api/v1/bookings with a fresh Idempotency-Key, then follows the
  booking to a terminal status, by server-sent events (/events, LOCUST_SSE_SHARE of the
  users, default 0.3) or by polling GET every LOCUST_POLL_S (0.5 s); cancels a share of
  its bookings (LOCUST_CANCEL_SHARE, 0.1) right after the 202 or once completed (refund);
  a 429 waits out Retry-After;
- lists its own bookings (weight 2), checks an item's availability (weight 3).

Scenarios, by LOCUST_SCENARIO: `spread` (default): LOCUST_ITEMS (200) items with ample
capacity; `flash`: one hot item with LOCUST_FLASH_CAPACITY (100) seats, far below the
demand; `mixed`: both user classes (SpreadUser, FlashUser; name one on the command line to
run it alone). The items are created when the
test starts, by an ADMIN (PUT /api/v1/inventory/{id}), and awaited until readable.

Besides the requests, three journeys are reported as their own rows: `journey POST ->
CONFIRMED` (also counted when the first status seen is already COMPLETED),
`journey POST -> terminal` and `journey sold out` (POST -> FAILED SOLD_OUT).
"""

from __future__ import annotations

import json
import logging
import os
import random
import time
import uuid
from typing import Any

import httpx
from locust import HttpUser, between, events, task
from locust.env import Environment

from ingress.auth.token_cli import mint_token
from tessera.config import load_settings

SCENARIO = os.environ.get("LOCUST_SCENARIO", "spread")
ITEMS = int(os.environ.get("LOCUST_ITEMS", "200"))
FLASH_CAPACITY = int(os.environ.get("LOCUST_FLASH_CAPACITY", "100"))
SSE_SHARE = float(os.environ.get("LOCUST_SSE_SHARE", "0.3"))
CANCEL_SHARE = float(os.environ.get("LOCUST_CANCEL_SHARE", "0.1"))
POLL_S = float(os.environ.get("LOCUST_POLL_S", "0.5"))
FOLLOW_TIMEOUT_S = float(os.environ.get("LOCUST_FOLLOW_TIMEOUT_S", "60"))
TERMINAL = {"COMPLETED", "FAILED", "CANCELLED"}
RUN = uuid.uuid4().hex[:8]
logging.getLogger("httpx").setLevel(logging.WARNING)
SPREAD_ITEMS = [f"locust-{RUN}-item-{n}" for n in range(ITEMS)]
FLASH_ITEM = f"locust-{RUN}-flash"


def _create_items(host: str) -> None:
    """ADMIN: every item this run books, then wait until each is readable (hot cache)."""
    settings = load_settings()
    admin = mint_token(settings, f"locust-admin-{RUN}", "ADMIN", 3600)
    wanted = {i: 1_000_000 for i in SPREAD_ITEMS} if SCENARIO in ("spread", "mixed") else {}
    if SCENARIO in ("flash", "mixed"):
        wanted[FLASH_ITEM] = FLASH_CAPACITY
    headers = {"Authorization": f"Bearer {admin}", "X-Forwarded-For": "10.255.0.1"}
    with httpx.Client(base_url=host, headers=headers, timeout=10) as client:
        for item, capacity in wanted.items():
            body = {"capacity": capacity, "price": {"amount_minor": 2500, "currency": "USD"}}
            answer = client.put(f"/api/v1/inventory/{item}", json=body)
            answer.raise_for_status()
        deadline = time.monotonic() + 60
        pending = set(wanted)
        while pending and time.monotonic() < deadline:
            for item in list(pending):
                if client.get(f"/api/v1/inventory/{item}").status_code == 200:
                    pending.discard(item)
            time.sleep(0.5)
        if pending:
            raise RuntimeError(f"{len(pending)} items never became readable, e.g. {min(pending)}")


@events.test_start.add_listener
def on_test_start(environment: Environment, **_: Any) -> None:
    if environment.host:
        _create_items(environment.host)


def _journey(environment: Environment, name: str, started: float, error: str | None = None) -> None:
    environment.events.request.fire(
        request_type="journey",
        name=name,
        response_time=(time.perf_counter() - started) * 1000,
        response_length=0,
        exception=RuntimeError(error) if error else None,
        context={},
    )


class BookingUser(HttpUser):
    abstract = True
    wait_time = between(1, 3)
    items: list[str] = []

    def on_start(self) -> None:
        self.user_id = f"locust-{RUN}-{uuid.uuid4().hex[:8]}"
        token = mint_token(load_settings(), self.user_id, "USER", 3600)
        address = f"10.{random.randrange(256)}.{random.randrange(256)}.{random.randrange(1, 255)}"
        self.client.headers.update({"Authorization": f"Bearer {token}", "X-Forwarded-For": address})
        self.use_sse = random.random() < SSE_SHARE

    # --- tasks ------------------------------------------------------------------------

    @task(6)
    def book(self) -> None:
        item = random.choice(self.items)
        started = time.perf_counter()
        body = {"itemId": item, "quantity": 1, "paymentMethod": "pm_card_visa"}
        headers = {"Idempotency-Key": uuid.uuid4().hex}
        booking_id = None
        with self.client.post(
            "/api/v1/bookings", json=body, headers=headers, catch_response=True,
            name="POST /api/v1/bookings",
        ) as answer:  # fmt: skip
            if answer.status_code == 202:
                booking_id = answer.json()["bookingId"]
            elif answer.status_code == 429:
                answer.success()  # the limits working; back off as a client should
                self._back_off(answer)
                return
            else:
                answer.failure(f"{answer.status_code}: {answer.text[:200]}")
                return
        if random.random() < CANCEL_SHARE / 2:
            self._cancel(booking_id)
        status = self._follow(booking_id, started)
        if status == "COMPLETED" and random.random() < CANCEL_SHARE / 2:
            self._cancel(booking_id)

    @task(2)
    def list_mine(self) -> None:
        self.client.get("/api/v1/bookings?limit=10", name="GET /api/v1/bookings")

    @task(3)
    def availability(self) -> None:
        item = random.choice(self.items)
        with self.client.get(
            f"/api/v1/inventory/{item}", name="GET /api/v1/inventory/{id}", catch_response=True
        ) as answer:
            if answer.status_code == 200:
                answer.success()

    # --- helpers ----------------------------------------------------------------------

    def _follow(self, booking_id: str, started: float) -> str | None:
        confirmed = False
        deadline = time.monotonic() + FOLLOW_TIMEOUT_S
        statuses = self._events(booking_id, deadline) if self.use_sse else self._poll(
            booking_id, deadline)  # fmt: skip
        for status, reason in statuses:
            if status in ("CONFIRMED", "COMPLETED") and not confirmed:
                confirmed = True
                _journey(self.environment, "journey POST -> CONFIRMED", started)
            if status in TERMINAL:
                _journey(self.environment, "journey POST -> terminal", started)
                if reason == "SOLD_OUT":
                    _journey(self.environment, "journey sold out", started)
                return status
        _journey(self.environment, "journey POST -> terminal", started, "no terminal status")
        return None

    def _poll(self, booking_id: str, deadline: float) -> Any:
        while time.monotonic() < deadline:
            with self.client.get(
                f"/api/v1/bookings/{booking_id}", name="GET /api/v1/bookings/{id}",
                catch_response=True,
            ) as answer:  # fmt: skip
                if answer.status_code == 200:
                    view = answer.json()
                    yield view["status"], view.get("reason")
                    if view["status"] in TERMINAL:
                        return
                elif answer.status_code == 429:
                    answer.success()
                    self._back_off(answer)
                    continue
                else:
                    answer.failure(f"{answer.status_code}: {answer.text[:200]}")
                    return
            time.sleep(POLL_S)

    def _events(self, booking_id: str, deadline: float) -> Any:
        url = f"/api/v1/bookings/{booking_id}/events"
        with self.client.get(
            url, stream=True, name="GET /api/v1/bookings/{id}/events", catch_response=True,
            timeout=FOLLOW_TIMEOUT_S,
        ) as answer:  # fmt: skip
            if answer.status_code != 200:
                answer.failure(f"{answer.status_code}")
                return
            for line in answer.iter_lines(decode_unicode=True):
                if line.startswith("data: "):
                    view = json.loads(line[6:])
                    yield view["status"], view.get("reason")
                    if view["status"] in TERMINAL:
                        return
                if time.monotonic() > deadline:
                    return

    def _cancel(self, booking_id: str) -> None:
        with self.client.put(
            f"/api/v1/bookings/{booking_id}/cancel", name="PUT /api/v1/bookings/{id}/cancel",
            catch_response=True,
        ) as answer:  # fmt: skip
            if answer.status_code in (202, 409):  # 409: it reached a terminal status first
                answer.success()

    def _back_off(self, answer: Any) -> None:
        retry = answer.headers.get("Retry-After", "1")
        time.sleep(min(float(retry) if retry.replace(".", "").isdigit() else 1.0, 10.0))


class SpreadUser(BookingUser):
    """Bookings spread over many items: the everyday load."""

    abstract = SCENARIO not in ("spread", "mixed")
    items = SPREAD_ITEMS


class FlashUser(BookingUser):
    """A flash sale: everyone wants the one hot item."""

    abstract = SCENARIO not in ("flash", "mixed")
    items = [FLASH_ITEM]
    wait_time = between(0.2, 1)
