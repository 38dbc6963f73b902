"""The PostgreSQL writer: a service's projections, written in one transaction per batch.

Steps 4-5 of the batch loop (sinks/base/loop.py): every projection's rows go to the
database in one transaction (binary COPY into staging + version-guarded merge, or
executemany in pipeline mode) and the transaction commits before the loop commits offsets.
A row the database refuses (a CHECK stating an invariant, bad data) rolls the transaction
back; the batch is then written row by row under savepoints so only the offending records
are dead-lettered and every other row still lands.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from typing import Any, Protocol

import psycopg

from schemas.topics import TopicSpec

from ..base import metrics
from ..base.records import Rejected, SourceRecord
from ..exceptions import TransientWriteError
from .connection import PostgresConfig, Session, classify
from .projection import Projection, Row, reduce_rows
from .upsert import missing_keys, values_sql, write_executemany, write_staged

logger = logging.getLogger(__name__)
Batch = dict[Projection, list[Row]]


class TableGroup(Protocol):
    """A service's read model: the topics it reads, its projections, the row mapping."""

    SERVICE: str
    INPUTS: tuple[TopicSpec, ...]
    PROJECTIONS: tuple[Projection, ...]

    def project(self, spec: TopicSpec, message: Any, source: SourceRecord) -> Iterable[Row]: ...


class PostgresWriter:
    def __init__(self, group: TableGroup, config: PostgresConfig) -> None:
        self.name = f"pg-{group.SERVICE}"
        self.inputs = group.INPUTS
        self.group = group
        self.config = config
        self.session = Session(self.name, config, group.PROJECTIONS)

    def project(self, spec: TopicSpec, message: Any, source: SourceRecord) -> Iterable[Row]:
        return self.group.project(spec, message, source)

    def reduce(self, rows: list[Row]) -> Batch:
        return reduce_rows(rows)

    def write(self, batch: Batch) -> list[Rejected]:
        if not batch:
            return []
        try:
            conn = self.session.get()
            try:
                rejected = self._write_batch(conn, batch)
            except psycopg.Error as exc:
                if classify(exc) != "row":
                    raise
                metrics.ERRORS.labels(self.name, "row_refused").inc()
                logger.warning(
                    "a row was refused; writing the batch row by row",
                    extra={"sink": self.name, "error": str(exc)[:300]},
                )
                rejected = self._write_row_by_row(conn, batch)
        except psycopg.Error as exc:
            if classify(exc) != "transient":
                metrics.ERRORS.labels(self.name, "fatal").inc()
                logger.exception(
                    "PostgreSQL error that a retry cannot fix", extra={"sink": self.name}
                )
                raise
            self.session.reset()
            raise TransientWriteError(f"{self.name}: {type(exc).__name__}: {exc}") from exc
        for projection, rows in batch.items():
            metrics.ROWS.labels(self.name, projection.name).inc(len(rows))
        return rejected

    def _write_batch(self, conn: psycopg.Connection, batch: Batch) -> list[Rejected]:
        rejected: list[Rejected] = []
        with conn.transaction():
            for projection, rows in batch.items():
                if self.config.strategy == "staged_copy":
                    types = self.session.copy_types[projection]
                    changed = write_staged(conn, projection, types, rows)
                else:
                    changed = write_executemany(conn, projection, rows)
                if projection.conflict_target == "" and changed < len(rows):
                    refused = missing_keys(conn, projection, rows)
                    error = f"{projection.table}: refused by a unique constraint besides its key"
                    rejected += [
                        Rejected(source, "CONSTRAINT", error)
                        for _, values, source in rows
                        if projection.key_of(values) in refused
                    ]
        return rejected

    def _write_row_by_row(self, conn: psycopg.Connection, batch: Batch) -> list[Rejected]:
        rejected: dict[tuple[str, int, int], Rejected] = {}
        with conn.transaction():
            for projection, rows in batch.items():
                statement = values_sql(projection)
                for row in rows:
                    _, values, source = row
                    try:
                        with conn.transaction():  # a savepoint per row
                            written = conn.execute(statement, values).rowcount
                            if projection.conflict_target == "" and not written:
                                refused = missing_keys(conn, projection, [row])
                            else:
                                refused = set()
                    except psycopg.Error as exc:
                        if classify(exc) != "row":
                            raise
                        refused, error = {"*"}, f"{projection.table}: {exc}"
                    else:
                        error = f"{projection.table}: refused by a unique constraint"
                    if refused:
                        rejected[(source.topic, source.partition, source.offset)] = Rejected(
                            source, "REFUSED_BY_DATABASE", error
                        )
        return list(rejected.values())

    def close(self) -> None:
        self.session.close()
