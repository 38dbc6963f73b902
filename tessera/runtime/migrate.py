"""Versioned SQL migrations, one directory per service database.

Files are `deploy/postgres/migrations/<service>/NNNN_description.sql`. Each pending file runs
once, in its own transaction, and is recorded in `schema_migrations` with its sha256. An
applied file is history: editing it raises MigrationError instead of silently diverging from
the databases that already ran the old text — add a new file instead. Statements that cannot
run inside a transaction (CREATE INDEX CONCURRENTLY) are therefore not supported.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from pathlib import Path

import psycopg

from tessera.config import PROJECT_ROOT, SERVICE_DATABASES, Settings

from .exceptions import RuntimeSetupError

MIGRATIONS_ROOT = PROJECT_ROOT / "deploy" / "postgres" / "migrations"
_FILE_NAME = re.compile(r"^(\d{4})_([a-z0-9_]+)\.sql$")
# Advisory locks are scoped to one database, so one fixed key serialises the runs on each.
_LOCK_KEY = 0x7E55E4A_0001

_BOOKKEEPING = """
CREATE TABLE IF NOT EXISTS schema_migrations (
    version    integer PRIMARY KEY,
    name       text        NOT NULL,
    checksum   text        NOT NULL,
    applied_at timestamptz NOT NULL DEFAULT now()
)
"""


class MigrationError(RuntimeSetupError):
    """A migration file is malformed, was edited after being applied, or failed to run."""


@dataclass(frozen=True)
class Migration:
    version: int
    name: str
    path: Path
    sql: bytes

    @property
    def checksum(self) -> str:
        return hashlib.sha256(self.sql).hexdigest()


def discover(directory: Path) -> list[Migration]:
    """The migrations in `directory`, by version; a misnamed or duplicate file is an error."""
    if not directory.is_dir():
        raise MigrationError(f"{directory}: no such migrations directory")
    found: dict[int, Migration] = {}
    for path in sorted(directory.glob("*.sql")):
        match = _FILE_NAME.match(path.name)
        if match is None:
            raise MigrationError(f"{path}: migration files are named NNNN_description.sql")
        version = int(match.group(1))
        if version in found:
            raise MigrationError(f"{path}: version {version} also used by {found[version].path}")
        found[version] = Migration(version, path.stem, path, path.read_bytes())
    return [found[v] for v in sorted(found)]


def migrate_database(dsn: str, directory: Path) -> list[str]:
    """Apply the pending migrations of `directory` to `dsn`; the names applied, in order."""
    migrations = discover(directory)
    applied: list[str] = []
    with psycopg.connect(dsn, autocommit=True) as conn:
        # Session lock held across all files: a second runner waits, then finds nothing to do.
        # Closing the connection releases it, on error too.
        conn.execute("SELECT pg_advisory_lock(%s)", (_LOCK_KEY,))
        conn.execute(_BOOKKEEPING)
        rows = conn.execute("SELECT version, name, checksum FROM schema_migrations").fetchall()
        done = {version: (name, checksum) for version, name, checksum in rows}
        # Verify all of history before changing anything.
        for migration in migrations:
            if migration.version in done and done[migration.version][1] != migration.checksum:
                raise MigrationError(
                    f"{migration.path} changed after it was applied as "
                    f"{done[migration.version][0]!r} (checksum differs); never edit an applied "
                    "migration, add a new one"
                )
        for migration in (m for m in migrations if m.version not in done):
            try:
                with conn.transaction():
                    # No parameters, so psycopg sends the file as one multi-statement query.
                    conn.execute(migration.sql)
                    conn.execute(
                        "INSERT INTO schema_migrations (version, name, checksum)"
                        " VALUES (%s, %s, %s)",
                        (migration.version, migration.name, migration.checksum),
                    )
            except psycopg.Error as exc:
                raise MigrationError(f"{migration.path} failed: {exc}") from exc
            applied.append(migration.name)
    return applied


def apply_migrations(settings: Settings, root: Path = MIGRATIONS_ROOT) -> dict[str, list[str]]:
    """Migrate every service database; the migration names applied, per service."""
    return {
        service: migrate_database(settings.postgres_dsn(service), root / service)
        for service in SERVICE_DATABASES
    }
