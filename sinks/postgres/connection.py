"""One PostgreSQL session per sink, (re)connected lazily, with its staging tables."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Literal

import psycopg
from psycopg import errors

from ..exceptions import SinkConfigError, TransientWriteError
from .projection import Projection
from .upsert import Strategy, prepare_stage

logger = logging.getLogger(__name__)

# Errors that mean "PostgreSQL is unavailable or busy": retry the same batch later.
# (TransactionRollback -- deadlock, serialization -- is an OperationalError in psycopg 3.)
TRANSIENT = (psycopg.OperationalError, psycopg.InterfaceError)
# Errors that mean "this row is wrong": find it, dead-letter it, write the others.
ROW_ERRORS = (psycopg.IntegrityError, psycopg.DataError)
ErrorKind = Literal["transient", "row", "fatal"]


def classify(exc: psycopg.Error) -> ErrorKind:
    if isinstance(exc, TRANSIENT):
        return "transient"
    if isinstance(exc, ROW_ERRORS):
        return "row"
    return "fatal"  # a bug or a missing migration: never dead-letter data for it


@dataclass(frozen=True)
class PostgresConfig:
    dsn: str
    strategy: Strategy = "staged_copy"
    connect_timeout_s: int = 5
    statement_timeout_ms: int = 30_000


class Session:
    """A lazily opened autocommit connection; callers open explicit transactions."""

    def __init__(self, name: str, config: PostgresConfig, projections: tuple[Projection, ...]):
        self.name = name
        self.config = config
        self.projections = projections
        self.copy_types: dict[Projection, list[str]] = {}
        self._conn: psycopg.Connection | None = None

    def get(self) -> psycopg.Connection:
        if self._conn is not None and not self._conn.closed:
            return self._conn
        try:
            conn = psycopg.connect(
                self.config.dsn,
                autocommit=True,
                connect_timeout=self.config.connect_timeout_s,
                application_name=f"tessera-sink-{self.name}",
                options=f"-c statement_timeout={self.config.statement_timeout_ms}",
                keepalives=1,
                keepalives_idle=10,
                keepalives_interval=5,
                keepalives_count=3,
            )
        except psycopg.OperationalError as exc:
            raise TransientWriteError(f"{self.name}: cannot connect: {exc}") from exc
        try:
            if self.config.strategy == "staged_copy":
                self.copy_types = {p: prepare_stage(conn, p) for p in self.projections}
        except (errors.UndefinedTable, errors.UndefinedColumn) as exc:
            conn.close()
            raise SinkConfigError(
                f"{self.name}: the database lacks a table or column the sink writes ({exc}); "
                "apply the migrations (`tessera up` does)"
            ) from exc
        except TRANSIENT as exc:
            conn.close()
            raise TransientWriteError(f"{self.name}: connection lost: {exc}") from exc
        self._conn = conn
        logger.info("connected to PostgreSQL", extra={"sink": self.name})
        return conn

    def reset(self) -> None:
        """Drop the connection after a transient error; the next get() reconnects."""
        if self._conn is not None:
            try:
                self._conn.close()
            except psycopg.Error:
                logger.debug("closing a broken connection failed", exc_info=True)
            self._conn = None

    def close(self) -> None:
        self.reset()
