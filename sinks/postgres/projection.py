"""A projection: how rows of one target table are keyed, versioned, staged and merged.

Rows are plain tuples in `columns` order. The in-memory reduce (step 3) keeps what the SQL
merge would keep, so one statement never touches a row twice and the result is the same
whether two versions arrive in one batch or in two.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from operator import itemgetter
from typing import Any

from ..base.records import SourceRecord

Values = tuple[Any, ...]
Merge = Callable[[Values, Values], Values]


def ts(epoch_ms: int) -> datetime:
    """Epoch milliseconds -> an aware datetime, exactly: a double's error at these magnitudes
    (< 0.25 us until 2109) is below fromtimestamp's rounding to the microsecond. About twice
    as fast as EPOCH + timedelta(milliseconds=...), and this runs for every column."""
    return datetime.fromtimestamp(epoch_ms / 1000, UTC)


def nullable(text: str) -> str | None:
    return text or None


@dataclass(frozen=True, eq=False)  # identity hash: a dict key for every row of a batch
class Projection:
    """One target table (or one column group of it) fed by a sink.

    on_conflict: the SQL after `ON CONFLICT <target>`; the target table is aliased `t`.
    version: the column the reduce compares (newest wins, ties keep the first seen);
      None means rows are immutable (first wins, `DO NOTHING`).
    merge: a custom reduce mirroring a custom on_conflict (e.g. monotone merges).
    defaults: columns inserted with a constant but never staged (`(column, SQL literal)`).
    conflict_target: None -> the key columns; "" -> any unique constraint (DO NOTHING only).
    """

    name: str
    table: str
    columns: tuple[str, ...]
    key: tuple[str, ...]
    on_conflict: str
    version: str | None = "version"
    merge: Merge | None = None
    defaults: tuple[tuple[str, str], ...] = ()
    conflict_target: str | None = None
    key_of: Callable[[Values], Any] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        # A scalar for a one-column key, a tuple otherwise (operator.itemgetter, in C).
        getter = itemgetter(*(self.columns.index(k) for k in self.key))
        object.__setattr__(self, "key_of", getter)

    def index(self, column: str) -> int:
        return self.columns.index(column)


# (projection, values in projection.columns order, the record it came from). A plain tuple:
# this is built for every row of every batch, and a tuple costs a tenth of a dataclass.
Row = tuple[Projection, Values, SourceRecord]


def reduce_rows(rows: Iterable[Row]) -> dict[Projection, list[Row]]:
    """Step 3: one row per key and projection, the one the merge would leave."""
    kept: dict[Projection, dict[Any, Row]] = {}
    for row in rows:
        projection, values, source = row
        by_key = kept.get(projection)
        if by_key is None:
            by_key = kept[projection] = {}
        key = projection.key_of(values)
        old = by_key.get(key)
        if old is None:
            by_key[key] = row
        elif projection.merge is not None:
            by_key[key] = (projection, projection.merge(old[1], values), source)
        elif projection.version is not None:
            at = projection.index(projection.version)
            if values[at] > old[1][at]:
                by_key[key] = row
    # Sorted by key: concurrent writers lock rows in the same order (no deadlocks).
    return {p: [by_key[k] for k in sorted(by_key)] for p, by_key in kept.items()}


def update_if_newer(columns: Iterable[str], key: Iterable[str], version: str = "version") -> str:
    """`DO UPDATE` that replaces every non-key column only when the incoming row is newer."""
    keys = set(key)
    assignments = ", ".join(f"{c} = EXCLUDED.{c}" for c in columns if c not in keys)
    return f"DO UPDATE SET {assignments} WHERE t.{version} < EXCLUDED.{version}"
