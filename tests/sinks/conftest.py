"""Fixtures of the sink tests (helpers live in support.py)."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest

from tessera.config import Settings

from .support import DatabaseFactory, create_databases, drop_databases


@pytest.fixture
def databases(stack: Settings) -> Iterator[DatabaseFactory]:
    """Factory of fresh, migrated per-service databases on the shared PostgreSQL."""
    made: list[str] = []

    def make() -> dict[str, str]:
        dsns = create_databases(stack, f"sinkt_{uuid.uuid4().hex[:10]}")
        made.extend(dsns.values())
        return dsns

    yield make
    drop_databases(stack, made)
