"""Read-only access to the sinks' databases: one small connection pool per service."""

from __future__ import annotations

import logging
from typing import Any

import psycopg
from psycopg_pool import ConnectionPool, PoolTimeout

from tessera.config import Settings

from .exceptions import BackendUnavailable
from .metrics import ERRORS

logger = logging.getLogger(__name__)


class Databases:
    def __init__(self, settings: Settings, timeout_s: float = 3.0) -> None:
        self.settings = settings
        self.timeout_s = timeout_s
        self._pools: dict[str, ConnectionPool] = {}

    def _pool(self, service: str) -> ConnectionPool:
        if service not in self._pools:
            self._pools[service] = ConnectionPool(
                self.settings.postgres_dsn(service),
                min_size=0,
                max_size=4,
                timeout=self.timeout_s,
                kwargs={"autocommit": True, "connect_timeout": max(1, int(self.timeout_s))},
                name=f"ops-{service}",
                open=True,
            )
        return self._pools[service]

    def query(self, service: str, sql: str, *params: Any) -> list[tuple[Any, ...]]:
        """Rows of one read-only query; BackendUnavailable if PostgreSQL does not answer."""
        try:
            with self._pool(service).connection() as conn:
                return conn.execute(sql, params).fetchall()  # type: ignore[arg-type]
        except (psycopg.OperationalError, PoolTimeout) as exc:
            ERRORS.labels("postgres").inc()
            logger.warning("query failed", extra={"service": service, "error": str(exc)[:300]})
            raise BackendUnavailable(f"PostgreSQL ({service}): {exc}") from exc

    def close(self) -> None:
        for pool in self._pools.values():
            pool.close()
        self._pools.clear()
