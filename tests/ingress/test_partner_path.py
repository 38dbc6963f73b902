"""Partners on Kafka share the HTTP dedupe key space: the same command books one booking id."""

from __future__ import annotations

from typing import Any

import pytest

from load.partner_producer import Plan, produce
from schemas.booking_commands import DECODER
from schemas.command_ids import booking_id_for

from .conftest import read_topic, uid

pytestmark = pytest.mark.anyio


async def test_partner_producer_and_http_derive_the_same_booking(
    ingress: Any, group_id: str
) -> None:
    h = await ingress()
    partner, prefix = uid("partner"), uid("keys")
    summary = produce(
        h.settings, Plan(count=5, rate=500, partner=partner, users=2, key_prefix=prefix)
    )
    assert summary["sent"] == 5 and summary["failed"] == 0

    # the same command over HTTP: same partner, same key -> same booking id
    over_http = await h.book(partner, "PARTNER", key=f"{prefix}-3", userId="user-1")
    assert over_http.status_code == 202

    records = read_topic(h.settings, "booking-commands", group_id)
    commands = [DECODER.decode(r.value()) for r in records]
    assert len(commands) == 6
    for record, command in zip(records, commands, strict=True):
        assert record.key().decode() == command.booking_id == booking_id_for(command.message_id)
    by_channel = sorted(c.channel for c in commands)
    assert by_channel == ["HTTP"] + ["PARTNER_KAFKA"] * 5
    http_command = next(c for c in commands if c.channel == "HTTP")
    twins = [c for c in commands if c.booking_id == over_http.json()["bookingId"]]
    assert len(twins) == 2 and http_command.message_id == twins[0].message_id == twins[1].message_id
