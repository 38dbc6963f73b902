from __future__ import annotations

import threading
import uuid
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from psycopg import sql

from tessera.config import SERVICE_DATABASES
from tessera.runtime.migrate import (
    MIGRATIONS_ROOT,
    MigrationError,
    apply_migrations,
    discover,
    migrate_database,
)
from tessera.runtime.postgres import PostgresComponent


@pytest.fixture
def fresh_dsn(postgres: PostgresComponent) -> Iterator[str]:
    """An empty database of its own on the private server."""
    name = f"mig_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(postgres.admin_dsn, autocommit=True) as conn:
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    yield postgres.admin_dsn.rsplit("/", 1)[0] + f"/{name}"
    with psycopg.connect(postgres.admin_dsn, autocommit=True) as conn:
        conn.execute(sql.SQL("DROP DATABASE {} WITH (FORCE)").format(sql.Identifier(name)))


def test_start_applied_everything_so_a_rerun_applies_nothing(postgres: PostgresComponent) -> None:
    assert apply_migrations(postgres.settings) == {s: [] for s in SERVICE_DATABASES}


@pytest.mark.parametrize("service", SERVICE_DATABASES)
def test_each_migration_applies_once(fresh_dsn: str, service: str) -> None:
    names = [m.name for m in discover(MIGRATIONS_ROOT / service)]
    assert names and names[0].startswith("0001_")
    assert migrate_database(fresh_dsn, MIGRATIONS_ROOT / service) == names
    assert migrate_database(fresh_dsn, MIGRATIONS_ROOT / service) == []


def test_tampered_applied_migration_raises(fresh_dsn: str, tmp_path: Path) -> None:
    first = tmp_path / "0001_widgets.sql"
    first.write_text("CREATE TABLE widgets (id int PRIMARY KEY);")
    assert migrate_database(fresh_dsn, tmp_path) == ["0001_widgets"]
    first.write_text("CREATE TABLE widgets (id bigint PRIMARY KEY);")
    (tmp_path / "0002_gadgets.sql").write_text("CREATE TABLE gadgets (id int);")
    with pytest.raises(MigrationError, match="0001_widgets.*changed"):
        migrate_database(fresh_dsn, tmp_path)
    with psycopg.connect(fresh_dsn) as conn:
        assert conn.execute("SELECT to_regclass('gadgets')").fetchone() == (None,)


def test_failing_migration_rolls_back_and_is_not_recorded(fresh_dsn: str, tmp_path: Path) -> None:
    (tmp_path / "0001_ok.sql").write_text("CREATE TABLE ok (id int);")
    (tmp_path / "0002_broken.sql").write_text("CREATE TABLE half (id int); SELECT nonsense;")
    with pytest.raises(MigrationError, match="0002_broken"):
        migrate_database(fresh_dsn, tmp_path)
    with psycopg.connect(fresh_dsn) as conn:
        assert conn.execute("SELECT version FROM schema_migrations").fetchall() == [(1,)]
        assert conn.execute("SELECT to_regclass('half')").fetchone() == (None,)


def test_concurrent_runs_apply_each_file_once(fresh_dsn: str, tmp_path: Path) -> None:
    # Slow enough that both runners overlap; without the lock both would try the CREATE.
    (tmp_path / "0001_slow.sql").write_text("SELECT pg_sleep(0.3); CREATE TABLE slow (id int);")
    results: list[list[str]] = []
    errors: list[Exception] = []

    def run() -> None:
        try:
            results.append(migrate_database(fresh_dsn, tmp_path))
        except Exception as exc:  # reported by the assertion below
            errors.append(exc)

    threads = [threading.Thread(target=run) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert sorted(results) == [[], ["0001_slow"]]


def test_misnamed_or_duplicate_files_are_rejected(tmp_path: Path) -> None:
    (tmp_path / "1_bad.sql").write_text("SELECT 1;")
    with pytest.raises(MigrationError, match="NNNN_description"):
        discover(tmp_path)
    (tmp_path / "1_bad.sql").unlink()
    (tmp_path / "0001_a.sql").write_text("SELECT 1;")
    (tmp_path / "0001_b.sql").write_text("SELECT 1;")
    with pytest.raises(MigrationError, match="version 1 also used"):
        discover(tmp_path)
