"""The two ways to write a reduced batch, both one transaction and both version-guarded.

- "staged_copy": binary COPY into a session temp table (ON COMMIT DELETE ROWS), then one
  `INSERT ... SELECT ... ON CONFLICT ... DO UPDATE ... WHERE t.version < EXCLUDED.version`.
- "executemany": the same INSERT ... VALUES per row, sent by executemany in pipeline mode.
load/bench_sinks.py measures both against a plain COPY of the same rows: staged_copy reached
~0.38 of COPY's rows/s, executemany ~0.20 (100k events, 2-core dev box), so it is the default.
"""

from __future__ import annotations

from typing import Literal

import psycopg
from psycopg import sql

from .projection import Projection, Row

Strategy = Literal["staged_copy", "executemany"]
# Binary COPY types psycopg dumps under another name (same wire format as text).
_COPY_TYPE = {"bpchar": "text", "varchar": "text"}


def stage_name(projection: Projection) -> str:
    return f"_stage_{projection.name}"


def _insert_head(projection: Projection) -> tuple[sql.Composable, sql.Composable]:
    columns = [*projection.columns, *(c for c, _ in projection.defaults)]
    head = sql.SQL("INSERT INTO {} AS t ({}) ").format(
        sql.Identifier(projection.table), sql.SQL(", ").join(map(sql.Identifier, columns))
    )
    if projection.conflict_target == "":
        target: sql.Composable = sql.SQL("")
    else:
        keys = projection.conflict_target or ", ".join(projection.key)
        target = sql.SQL("({})").format(sql.SQL(keys))  # our own constant column names
    tail = sql.SQL(" ON CONFLICT {} {}").format(target, sql.SQL(projection.on_conflict))
    return head, tail


def merge_sql(projection: Projection) -> sql.Composed:
    head, tail = _insert_head(projection)
    selected = [
        *(sql.Identifier(c) for c in projection.columns),
        *(sql.SQL(literal) for _, literal in projection.defaults),
    ]
    body = sql.SQL("SELECT {} FROM {}").format(
        sql.SQL(", ").join(selected), sql.Identifier(stage_name(projection))
    )
    return head + body + tail


def values_sql(projection: Projection) -> sql.Composed:
    head, tail = _insert_head(projection)
    placeholders = [
        *(sql.Placeholder() for _ in projection.columns),
        *(sql.SQL(literal) for _, literal in projection.defaults),
    ]
    return head + sql.SQL("VALUES ({})").format(sql.SQL(", ").join(placeholders)) + tail


def prepare_stage(conn: psycopg.Connection, projection: Projection) -> list[str]:
    """Create the session's staging table; the COPY types of its columns, in order."""
    columns = sql.SQL(", ").join(map(sql.Identifier, projection.columns))
    conn.execute(
        sql.SQL(
            "CREATE TEMP TABLE IF NOT EXISTS {} ON COMMIT DELETE ROWS AS SELECT {} FROM {} "
            "WITH NO DATA"
        ).format(sql.Identifier(stage_name(projection)), columns, sql.Identifier(projection.table))
    )
    types = dict(
        conn.execute(
            "SELECT a.attname, t.typname FROM pg_attribute a JOIN pg_type t ON t.oid = a.atttypid"
            " WHERE a.attrelid = %s::regclass AND a.attnum > 0 AND NOT a.attisdropped",
            (projection.table,),
        ).fetchall()
    )
    return [_COPY_TYPE.get(types[c], types[c]) for c in projection.columns]


def write_staged(
    conn: psycopg.Connection, projection: Projection, types: list[str], rows: list[Row]
) -> int:
    """COPY the rows into the staging table and merge them; the number of rows changed."""
    columns = sql.SQL(", ").join(map(sql.Identifier, projection.columns))
    copy_sql = sql.SQL("COPY {} ({}) FROM STDIN (FORMAT BINARY)").format(
        sql.Identifier(stage_name(projection)), columns
    )
    with conn.cursor() as cur:
        with cur.copy(copy_sql) as copy:
            copy.set_types(types)
            write = copy.write_row
            for _, values, _source in rows:
                write(values)
        cur.execute(merge_sql(projection))
        return cur.rowcount  # the staging table empties itself at commit (or rollback)


def write_executemany(conn: psycopg.Connection, projection: Projection, rows: list[Row]) -> int:
    with conn.cursor() as cur:
        cur.executemany(values_sql(projection), [values for _, values, _source in rows])
        return cur.rowcount


def missing_keys(conn: psycopg.Connection, projection: Projection, rows: list[Row]) -> set[str]:
    """Keys of rows a `DO NOTHING` insert skipped although no row has their key: another
    unique constraint (an invariant, e.g. one successful capture per booking) refused them."""
    (column,) = projection.key
    keys = [projection.key_of(values) for _, values, _source in rows]
    query = sql.SQL(
        "SELECT k FROM unnest(%s::text[]) AS k WHERE NOT EXISTS (SELECT 1 FROM {} WHERE {} = k)"
    ).format(sql.Identifier(projection.table), sql.Identifier(column))
    return {k for (k,) in conn.execute(query, (keys,)).fetchall()}
