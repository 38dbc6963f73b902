from __future__ import annotations

import socket
from pathlib import Path

import psycopg
import pytest
from psycopg import errors

from tessera.config import SERVICE_DATABASES, Settings
from tessera.runtime.base import pid_alive, read_pid
from tessera.runtime.exceptions import PortInUseError
from tessera.runtime.migrate import MIGRATIONS_ROOT, discover
from tessera.runtime.postgres import PostgresComponent

NOW = "2026-01-01T00:00:00Z"


def test_start_is_healthy_and_idempotent(postgres: PostgresComponent) -> None:
    assert postgres.health().state == "healthy"
    pid = read_pid(postgres.pid_file)
    assert pid is not None
    postgres.start()
    assert read_pid(postgres.pid_file) == pid


def test_runs_as_postgres_user_on_loopback_only(postgres: PostgresComponent) -> None:
    with psycopg.connect(postgres.admin_dsn) as conn:
        settings = dict(
            conn.execute(
                "SELECT name, setting FROM pg_settings WHERE name IN "
                "('listen_addresses', 'shared_buffers', 'max_connections', 'fsync')"
            ).fetchall()
        )
    assert settings == {
        "listen_addresses": "127.0.0.1",
        "shared_buffers": "32768",  # 8 kB pages: 256 MB
        "max_connections": "200",
        "fsync": "on",
    }
    status = Path(f"/proc/{read_pid(postgres.pid_file)}/status").read_text()
    uid_line = next(line for line in status.splitlines() if line.startswith("Uid:"))
    assert uid_line.split()[1] != "0"


def test_every_service_database_is_migrated(postgres: PostgresComponent) -> None:
    endpoints = postgres.endpoints()
    assert set(endpoints) == {f"postgres.{s}" for s in SERVICE_DATABASES}
    for service in SERVICE_DATABASES:
        with psycopg.connect(endpoints[f"postgres.{service}"]) as conn:
            versions = conn.execute(
                "SELECT version FROM schema_migrations ORDER BY version"
            ).fetchall()
        assert versions == [(m.version,) for m in discover(MIGRATIONS_ROOT / service)], service


def test_oversold_inventory_row_is_rejected(postgres: PostgresComponent) -> None:
    insert = (
        "INSERT INTO inventory (item_id, capacity, held, sold, price_minor, currency, version,"
        " updated_at) VALUES (%s, 10, %s, %s, 500, 'EUR', 1, %s)"
    )
    with psycopg.connect(postgres.settings.postgres_dsn("inventory")) as conn:
        conn.execute(insert, ("item-ok", 4, 6, NOW))
        with pytest.raises(errors.CheckViolation, match="inventory_no_oversell"):
            conn.execute(insert, ("item-oversold", 5, 6, NOW))


def test_second_successful_capture_is_rejected(postgres: PostgresComponent) -> None:
    insert = (
        "INSERT INTO payment_transactions (transaction_id, booking_id, operation, outcome,"
        " amount_minor, currency, gateway_ref, occurred_at)"
        " VALUES (%s, 'b-1', %s, %s, 1000, 'EUR', 'ref', %s)"
    )
    with psycopg.connect(postgres.settings.postgres_dsn("payment"), autocommit=True) as conn:
        conn.execute(insert, ("t-auth", "AUTHORIZE", "SUCCEEDED", NOW))
        conn.execute(insert, ("t-cap-1", "CAPTURE", "FAILED", NOW))  # a failed try is fine
        conn.execute(insert, ("t-cap-2", "CAPTURE", "SUCCEEDED", NOW))
        with pytest.raises(errors.UniqueViolation, match="one_capture"):
            conn.execute(insert, ("t-cap-3", "CAPTURE", "SUCCEEDED", NOW))


def test_port_taken_by_a_stranger_is_refused(tmp_path: Path) -> None:
    with socket.socket() as stranger:
        stranger.bind(("127.0.0.1", 0))
        stranger.listen()
        settings = Settings(home=tmp_path, postgres_port=stranger.getsockname()[1])
        with pytest.raises(PortInUseError, match="TESSERA_POSTGRES_PORT"):
            PostgresComponent(settings).start()


def test_stop_leaves_no_process_and_restart_keeps_data(postgres: PostgresComponent) -> None:
    dsn = postgres.settings.postgres_dsn("booking")
    with psycopg.connect(dsn) as conn:
        conn.execute(
            "INSERT INTO bookings VALUES ('b-durable', 'u-1', 'i-1', 1, 1000, 'EUR', 'PENDING',"
            " NULL, NULL, 1, %s, %s)",
            (NOW, NOW),
        )
    pid = read_pid(postgres.pid_file)
    assert pid is not None
    postgres.stop()
    assert not pid_alive(pid)
    assert not postgres.pid_file.exists()
    assert not (postgres.data_dir / "postmaster.pid").exists()
    assert postgres.health().state == "stopped"
    postgres.stop()  # stopping a stopped server is fine

    postgres.start()
    with psycopg.connect(dsn) as conn:
        row = conn.execute("SELECT status FROM bookings WHERE booking_id = 'b-durable'").fetchone()
    assert row == ("PENDING",)
