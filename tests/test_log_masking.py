"""No log line of a real run carries contact data, card numbers, tokens or secrets.

A small flow on the real stack, every role as its own process (notifications included, its
SMTP server and webhook target unreachable so delivery fails and retries are logged), plus
the ops process: a booking with an email, a phone number, a card-number-like payment
method and a JWT in its webhook URL; a poison command carrying the same values; an ops
request with a bearer token. Then every log file of the run is searched for the raw values.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator

import pytest

from load.system_harness import RunningSystem, create_booking, send, start_system, stop_system
from tessera.config import Settings
from tests.integration.test_booking_saga import new_item
from tests.ops.support import OpsProcess

ROLES = ("timers", "inventory", "saga", "payment", "sink-postgres", "sink-redis", "notifications")
EMAIL = "alice.liddell@example.com"
PHONE = "+4915112345678"
CARD = "4242424242424242"
JWT = (
    "eyJhbGciOiJSUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiJhbGljZSIsInJvbGVzIjpbIkFETUlOIl19"
    ".c2lnbmF0dXJlLW5vdC1yZWFsbHktYS1zaWduYXR1cmU"
)
SECRET = "sk_test_4eC39HqLyjWDarjtT1zdp7dc"
RAW = (EMAIL, PHONE, CARD, "4242 4242 4242 4242", JWT, JWT.split(".")[1], SECRET)


@pytest.fixture(scope="module")
def system(stack: Settings) -> Iterator[RunningSystem]:
    running = start_system(stack, roles=ROLES)
    yield running
    stop_system(running)


def test_no_log_line_of_the_run_carries_pii_or_secrets(system: RunningSystem) -> None:
    ops = OpsProcess(system.pipelines.settings)
    try:
        item_id = new_item(system, capacity=5)
        command = create_booking(
            user_id="u-mask",
            item_id=item_id,
            quantity=1,
            payment_method="pm_card_visa",
            contact_email=EMAIL,
            contact_phone=PHONE,
            webhook_url=f"http://127.0.0.1:9/hook?access_token={JWT}&key={SECRET}",
            requested_by=f"Bearer {JWT}",
        )
        # The gateway refuses an unknown payment method, and the worker logs why.
        card = create_booking(
            user_id="u-mask", item_id=item_id, quantity=1, payment_method=f"pm_card_{CARD}"
        )
        send(system.settings, system.producer, [command, card])
        poison = json.dumps({"type": "CreateBooking", "contact_email": EMAIL, "note": RAW})
        system.producer.produce(
            system.settings.topic("booking-commands"), key=b"poison", value=poison.encode()
        )
        system.producer.flush(10)
        system.watcher.wait_status(command.booking_id, {"COMPLETED"})
        refused = ops.post(
            "/api/dead-letters/replay",
            json={"topic": "booking-commands.dlq", "partition": 0, "offset": 0, "note": EMAIL},
            headers={"Authorization": f"Bearer {JWT}"},
        )
        assert refused.status_code == 401
        time.sleep(8)  # notification attempts and retries fail and are logged meanwhile
    finally:
        ops.stop()
    log_dir = system.pipelines.settings.log_dir
    files = sorted(log_dir.glob("*.log"))
    assert {f.stem for f in files} >= {*ROLES, "ops"}, files
    lines = [(f.name, line) for f in files for line in f.read_text().splitlines() if line]
    assert len(lines) > 20, lines
    leaks = [(name, line) for name, line in lines if any(raw in line for raw in RAW)]
    assert not leaks, leaks[:5]
    not_json = [(name, line) for name, line in lines if not line.startswith("{")]
    assert not not_json, not_json[:5]
    # The values did reach the logs, masked: the search above is not vacuous.
    text = "\n".join(line for _, line in lines)
    assert "pm_card_[card]" in text, "the refused card-like payment method was not logged"
