"""Business metrics from the sinks' tables: bookings by status, the saga funnel, payment
conversion, the oldest PENDING bookings and the bookings stuck in a non-terminal status."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from .db import Databases

TERMINAL = ("COMPLETED", "CANCELLED", "FAILED")
STATUSES = ("PENDING", "CONFIRMED", *TERMINAL)
# Funnel stage -> the saga step whose success marks it (saga_steps, action ACTION).
STAGES = (
    ("reserved", "RESERVE_INVENTORY"),
    ("authorized", "AUTHORIZE_PAYMENT"),
    ("confirmed", "CONFIRM_BOOKING"),
    ("captured", "CAPTURE_PAYMENT"),
)
COMPENSATIONS = ("RELEASE_INVENTORY", "VOID_PAYMENT", "REFUND_PAYMENT", "CANCEL_BOOKING")
AUTHORIZED = ("AUTHORIZED", "CAPTURED", "VOIDED", "REFUNDED")


def _ratio(part: int, whole: int) -> float | None:
    return round(part / whole, 4) if whole else None


def _iso(value: datetime) -> str:
    return value.isoformat(timespec="milliseconds")


def bookings_by_status(db: Databases) -> dict[str, int]:
    counts = dict.fromkeys(STATUSES, 0)
    for status, n in db.query("booking", "SELECT status, count(*) FROM bookings GROUP BY 1"):
        counts[status] = n
    return counts


def funnel(db: Databases) -> dict[str, Any]:
    """How many bookings reached each step, the compensations run, payment conversion."""
    (created, completed), *_ = db.query(
        "saga",
        "SELECT count(*), count(*) FILTER (WHERE status = 'COMPLETED') FROM saga_instances",
    )
    steps = {
        (step, action): n
        for step, action, n in db.query(
            "saga",
            "SELECT step, action, count(*) FROM saga_steps WHERE status = 'SUCCEEDED' "
            "GROUP BY 1, 2",
        )
    }
    stages = [{"stage": "created", "count": created}]
    stages += [{"stage": name, "count": steps.get((step, "ACTION"), 0)} for name, step in STAGES]
    stages.append({"stage": "completed", "count": completed})
    (attempted, authorized, captured), *_ = db.query(
        "payment",
        "SELECT count(*), count(*) FILTER (WHERE status = ANY(%s)),"
        " count(*) FILTER (WHERE captured_count > 0 OR status IN ('CAPTURED', 'REFUNDED'))"
        " FROM payments",
        list(AUTHORIZED),
    )
    return {
        "stages": stages,
        "compensations": {s: steps.get((s, "COMPENSATION"), 0) for s in COMPENSATIONS},
        "by_status": bookings_by_status(db),
        "payments": {"attempted": attempted, "authorized": authorized, "captured": captured},
        "conversion": {
            "authorized_per_attempted": _ratio(authorized, attempted),
            "captured_per_authorized": _ratio(captured, authorized),
        },
    }


def _booking(row: tuple[Any, ...]) -> dict[str, Any]:
    booking_id, status, reason, created, updated, age = row
    return {
        "booking_id": booking_id,
        "status": status,
        "reason": reason,
        "created_at": _iso(created),
        "updated_at": _iso(updated),
        "age_s": round(float(age), 1),
        "trace": f"/trace/{booking_id}",
    }


_COLUMNS = (
    "booking_id, status, reason, created_at, updated_at, extract(epoch FROM now() - {}) AS age"
)


def stuck(db: Databases, threshold_s: float, limit: int = 20) -> dict[str, Any]:
    """Non-terminal bookings untouched for threshold_s, and the oldest PENDING ones."""
    stuck_rows = db.query(
        "booking",
        f"SELECT {_COLUMNS.format('updated_at')} FROM bookings"  # noqa: S608 - constants only
        " WHERE status <> ALL(%s) AND updated_at < now() - make_interval(secs => %s)"
        " ORDER BY updated_at LIMIT %s",
        list(TERMINAL),
        threshold_s,
        limit,
    )
    counts = db.query(
        "booking",
        "SELECT status, count(*) FROM bookings WHERE status <> ALL(%s)"
        " AND updated_at < now() - make_interval(secs => %s) GROUP BY 1",
        list(TERMINAL),
        threshold_s,
    )
    oldest = db.query(
        "booking",
        f"SELECT {_COLUMNS.format('created_at')} FROM bookings"  # noqa: S608 - constants only
        " WHERE status = 'PENDING' ORDER BY created_at LIMIT %s",
        limit,
    )
    return {
        "threshold_s": threshold_s,
        "count": {status: n for status, n in counts},
        "total": sum(n for _, n in counts),
        "bookings": [_booking(r) for r in stuck_rows],
        "oldest_pending": [_booking(r) for r in oldest],
        "oldest_pending_age_s": _booking(oldest[0])["age_s"] if oldest else 0.0,
    }
