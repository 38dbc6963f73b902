"""Read-only Postgres access: one small async pool per service database."""

from __future__ import annotations

from typing import Any

import psycopg
from psycopg.rows import dict_row
from psycopg_pool import AsyncConnectionPool, PoolTimeout

from tessera.config import Settings

from .config import BackendConfig
from .exceptions import BackendUnavailable
from .metrics import BACKEND_FAILURES

DATABASES = ("booking", "inventory", "payment")


class Postgres:
    def __init__(self, settings: Settings, config: BackendConfig) -> None:
        timeout_ms = int(config.pg_timeout_s * 1000)
        options = f"-c statement_timeout={timeout_ms} -c default_transaction_read_only=on"
        self.pools = {
            name: AsyncConnectionPool(
                settings.postgres_dsn(name),
                min_size=1,
                max_size=config.pg_pool_max,
                open=False,
                timeout=config.pg_timeout_s,
                name=f"ingress-{name}",
                kwargs={
                    "autocommit": True,
                    "connect_timeout": max(1, int(config.pg_timeout_s)),
                    "options": options,
                },
            )
            for name in DATABASES
        }

    async def open(self) -> None:
        for pool in self.pools.values():
            await pool.open(wait=False)

    async def close(self) -> None:
        for pool in self.pools.values():
            await pool.close()

    async def fetch(self, database: str, query: Any, params: Any, *, many: bool = False) -> Any:
        """One row as a dict (or None), or every row when `many`; BackendUnavailable on failure."""
        try:
            async with self.pools[database].connection() as conn:
                cursor = conn.cursor(row_factory=dict_row)
                await cursor.execute(query, params)
                return await (cursor.fetchall() if many else cursor.fetchone())
        except (psycopg.OperationalError, psycopg.InterfaceError, PoolTimeout) as exc:
            BACKEND_FAILURES.labels("postgres", database).inc()
            raise BackendUnavailable(
                "postgres", str(exc).splitlines()[0] if str(exc) else ""
            ) from exc

    async def ping(self) -> bool:
        try:
            await self.fetch("booking", "SELECT 1", None)
        except BackendUnavailable:
            return False
        return True
