"""The baseline's own database, `tessera_baseline` on Tessera's private PostgreSQL."""

from __future__ import annotations

from pathlib import Path

import psycopg
from psycopg import sql

from tessera.config import Settings

SERVICE = "baseline"
SCHEMA = Path(__file__).with_name("schema.sql")
TABLES = (
    "inventory",
    "inventory_reservations",
    "bookings",
    "booking_history",
    "payments",
    "payment_transactions",
)


def dsn(settings: Settings) -> str:
    """settings.postgres_dsn("baseline"): TESSERA_PG_DSN_BASELINE overrides it."""
    return settings.postgres_dsn(SERVICE)


def ensure_database(settings: Settings) -> str:
    """Create the database if missing and apply the (idempotent) schema; return its DSN."""
    target = dsn(settings)
    name = psycopg.conninfo.conninfo_to_dict(target).get("dbname", f"tessera_{SERVICE}")
    admin = psycopg.conninfo.make_conninfo(target, dbname="postgres")
    with psycopg.connect(admin, autocommit=True) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone()
        if exists is None:
            try:
                conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(str(name))))
            except psycopg.errors.DuplicateDatabase:
                pass  # created concurrently
    with psycopg.connect(target, autocommit=True) as conn:
        # One schema run at a time (CREATE OR REPLACE FUNCTION races with itself).
        conn.execute("SELECT pg_advisory_lock(74110601)")
        try:
            conn.execute(SCHEMA.read_text())  # type: ignore[arg-type]
        finally:
            conn.execute("SELECT pg_advisory_unlock(74110601)")
    return target


def reset(settings: Settings) -> None:
    """Empty every table (the benchmark starts each run from a clean database)."""
    with psycopg.connect(dsn(settings), autocommit=True) as conn:
        conn.execute(sql.SQL("TRUNCATE {}").format(sql.SQL(", ").join(map(sql.Identifier, TABLES))))


def add_items(settings: Settings, items: list[tuple[str, int, int]]) -> None:
    """Insert or reset items: (item_id, capacity, price_minor)."""
    with psycopg.connect(dsn(settings)) as conn, conn.cursor() as cur:
        cur.executemany(
            "INSERT INTO inventory (item_id, capacity, price_minor) VALUES (%s, %s, %s)"
            " ON CONFLICT (item_id) DO UPDATE SET capacity = EXCLUDED.capacity,"
            " price_minor = EXCLUDED.price_minor, held = 0, sold = 0",
            items,
        )
