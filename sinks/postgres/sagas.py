"""saga database: saga_instances + saga_steps, from saga-events and booking-events.

saga_instances has two writers with two version sequences: the saga's step sequence
(saga-events: `state`, `version`) and the booking version (booking-events: `status`,
`reason`, `status_version`, migration 0002). Each column group is guarded by its own
version; started_at/updated_at merge with LEAST/GREATEST. Every merge is commutative, so
the row converges to the same value whichever topic is read first.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from schemas.booking_events import BookingChange
from schemas.saga_events import SagaStepChanged
from schemas.topics import BOOKING_EVENTS, SAGA_EVENTS, TopicSpec

from ..base.records import SourceRecord
from .projection import Merge, Projection, Row, Values, nullable, ts, update_if_newer

SERVICE = "saga"
INPUTS: tuple[TopicSpec, ...] = (SAGA_EVENTS, BOOKING_EVENTS)


def _guarded_merge(guarded: tuple[int, ...], version: int, started: int, updated: int) -> Merge:
    """In-memory twin of _guarded_sql: guarded columns follow the newer version."""

    def merge(old: Values, new: Values) -> Values:
        newer = new[version] > old[version]
        out = list(old)
        for i in guarded:
            out[i] = new[i] if newer else old[i]
        out[version] = max(old[version], new[version])
        out[started] = min(old[started], new[started])
        out[updated] = max(old[updated], new[updated])
        return tuple(out)

    return merge


def _guarded_sql(guarded: tuple[str, ...], version: str) -> str:
    newer = f"t.{version} < EXCLUDED.{version}"
    sets = [f"{c} = CASE WHEN {newer} THEN EXCLUDED.{c} ELSE t.{c} END" for c in guarded]
    sets += [
        f"{version} = GREATEST(t.{version}, EXCLUDED.{version})",
        "started_at = LEAST(t.started_at, EXCLUDED.started_at)",
        "updated_at = GREATEST(t.updated_at, EXCLUDED.updated_at)",
    ]
    return (
        f"DO UPDATE SET {', '.join(sets)} WHERE {newer}"
        " OR t.started_at > EXCLUDED.started_at OR t.updated_at < EXCLUDED.updated_at"
    )


# From saga-events: (booking_id, state, version, started_at, updated_at).
SAGA_STATE = Projection(
    name="saga_instances_state",
    table="saga_instances",
    columns=("booking_id", "state", "version", "started_at", "updated_at"),
    key=("booking_id",),
    merge=_guarded_merge((1,), 2, 3, 4),
    on_conflict=_guarded_sql(("state",), "version"),
    defaults=(("status", "'PENDING'"), ("status_version", "0")),
)
# From booking-events: (booking_id, status, reason, status_version, started_at, updated_at).
SAGA_STATUS = Projection(
    name="saga_instances_status",
    table="saga_instances",
    columns=("booking_id", "status", "reason", "status_version", "started_at", "updated_at"),
    key=("booking_id",),
    merge=_guarded_merge((1, 2), 3, 4, 5),
    on_conflict=_guarded_sql(("status", "reason"), "status_version"),
    defaults=(("state", "''"), ("version", "0")),
)
_STEP_COLUMNS = ("booking_id", "step", "action", "status", "attempt", "version", "occurred_at")
SAGA_STEPS = Projection(
    name="saga_steps",
    table="saga_steps",
    columns=_STEP_COLUMNS,
    key=("booking_id", "step", "action"),
    on_conflict=update_if_newer(_STEP_COLUMNS, ("booking_id", "step", "action")),
)
PROJECTIONS = (SAGA_STATE, SAGA_STATUS, SAGA_STEPS)


def project(spec: TopicSpec, message: Any, source: SourceRecord) -> Iterator[Row]:
    if isinstance(message, SagaStepChanged):
        at = ts(message.occurred_at)
        yield (
            SAGA_STATE,
            (message.booking_id, message.saga_state, message.version, at, at),
            source,
        )
        step = (
            message.booking_id,
            message.step,
            message.action,
            message.status,
            message.attempt,
            message.version,
            at,
        )
        yield (SAGA_STEPS, step, source)
    elif isinstance(message, BookingChange):
        status = (
            message.booking_id,
            message.status.value,
            nullable(message.reason),
            message.version,
            ts(message.created_at),
            ts(message.occurred_at),
        )
        yield (SAGA_STATUS, status, source)
