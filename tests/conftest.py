"""Shared fixtures: the real stack (Kafka, PostgreSQL, Redis) and per-test isolation.

A test that needs the stack asks for `stack` (or a factory built on it). If the stack
is not running it is started once for the session and stopped at the end; if it cannot
start, the test errors: it never skips.
"""

from __future__ import annotations

import dataclasses
import uuid
from collections.abc import Callable, Iterator

import pytest

from load.system_harness import delete_prefixed_topics
from tessera.config import Settings, load_settings
from tessera.runtime.base import Component
from tessera.runtime.stack import infrastructure
from tessera.runtime.topics import apply_topics


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if "stack" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.stack)


@pytest.fixture(scope="session")
def stack() -> Iterator[Settings]:
    settings = load_settings()
    started: list[Component] = []
    for component in infrastructure(settings):
        if component.health().state != "healthy":
            component.start()
            started.append(component)
    yield settings
    for component in reversed(started):
        component.stop()


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:10]}"


@pytest.fixture
def isolated_settings(stack: Settings) -> Iterator[Callable[..., Settings]]:
    """Settings whose topics carry a unique prefix: a private copy of every topic."""
    prefixes: list[str] = []

    def make(partitions: int = 3, **overrides: object) -> Settings:
        prefix = unique("t") + "."
        prefixes.append(prefix)
        settings = dataclasses.replace(
            stack, topic_prefix=prefix, topic_partitions=partitions, **overrides
        )
        apply_topics(settings.kafka_bootstrap, partitions, prefix=prefix)
        return settings

    yield make
    for prefix in prefixes:  # changelog topics carry the prefix inside their names
        delete_prefixed_topics(stack.kafka_bootstrap, prefix)


@pytest.fixture
def group_id() -> str:
    return unique("g")
