"""A booking's journey: every command and event on every topic, and every table row the
sinks wrote for it, time-ordered, each with the process that handled it.

Used by `tessera trace BOOKING_ID` and by the ops page's /trace/{bookingId}.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from tessera.config import Settings
from tessera.telemetry import mask

from . import journey_kafka
from .db import Databases
from .exceptions import BackendUnavailable
from .topology import TABLE_WRITERS

SCAN_MARGIN_MS = 60_000  # records may be stamped a little before the booking's created_at
# (service, table, time column, columns shown) of every row a booking has.
TABLES = (
    ("booking", "bookings", "updated_at", ("status", "reason", "version", "payment_id")),
    ("booking", "booking_history", "occurred_at", ("status", "reason", "version")),
    ("saga", "saga_instances", "updated_at", ("state", "status", "reason", "version")),
    ("saga", "saga_steps", "occurred_at", ("step", "action", "status", "attempt")),
    ("payment", "payments", "updated_at", ("status", "payment_id", "captured_count")),
    ("payment", "payment_transactions", "occurred_at", ("operation", "outcome")),
    ("inventory", "inventory_reservations", "updated_at", ("item_id", "quantity", "status")),
    ("notification", "notifications", "updated_at", ("channel", "recipient_masked", "status")),
)


def _ms(value: datetime) -> int:
    return int(value.timestamp() * 1000)


def rows(db: Databases, booking_id: str) -> list[dict[str, Any]]:
    out = []
    for service, table, at, columns in TABLES:
        sql = f"SELECT {at}, {', '.join(columns)} FROM {table} WHERE booking_id = %s"  # noqa: S608
        for row in db.query(service, sql, booking_id):
            details = {c: v for c, v in zip(columns, row[1:], strict=True) if v not in (None, "")}
            what = str(details.pop("status", details.pop("outcome", "row")))
            out.append(
                {
                    "at": _ms(row[0]),
                    "source": "table",
                    "where": table,
                    "what": what,
                    "pipeline": TABLE_WRITERS[table],
                    "detail": mask(", ".join(f"{k}={v}" for k, v in details.items())),
                }
            )
    return out


def journey(settings: Settings, db: Databases, booking_id: str) -> dict[str, Any]:
    """The whole journey; a database that does not answer is reported, not fatal."""
    problems: list[str] = []
    try:
        table_rows = rows(db, booking_id)
    except BackendUnavailable as exc:
        table_rows, problems = [], [str(exc)]
    created = [r["at"] for r in table_rows if r["where"] in ("bookings", "saga_instances")]
    since = min(created) - SCAN_MARGIN_MS if created else 0
    records = list(journey_kafka.scan(settings, booking_id, since_ms=since))
    entries = sorted(records + table_rows, key=lambda e: (e["at"], e["source"] != "kafka"))
    traces = sorted({r["trace_id"] for r in records if r["trace_id"]})
    return {
        "booking_id": booking_id,
        "records": len(records),
        "rows": len(table_rows),
        "trace_ids": traces,
        "problems": problems,
        "entries": entries,
    }


def _time(ms: int) -> str:
    return datetime.fromtimestamp(ms / 1000).strftime("%Y-%m-%d %H:%M:%S.%f")[:-3]


def format_text(trip: dict[str, Any]) -> str:
    head = (
        f"Booking {trip['booking_id']}: {trip['records']} Kafka records, {trip['rows']} table"
        f" rows, trace {', '.join(trip['trace_ids']) or '-'}"
    )
    lines = [head]
    lines += [f"  ! {problem}" for problem in trip["problems"]]
    for e in trip["entries"]:
        span = f"  span {e['span_id']}" if e.get("span_id") else ""
        lines.append(
            f"{_time(e['at'])}  {e['where']:<34} {e['what']:<22} -> {e['pipeline']:<24}"
            f" {e['detail']}{span}"
        )
    return "\n".join(lines)
