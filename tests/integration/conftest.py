from __future__ import annotations

from collections.abc import Iterator

import pytest

from load.system_harness import RunningSystem, start_system, stop_system
from tessera.config import Settings


@pytest.fixture(scope="module")
def system(stack: Settings) -> Iterator[RunningSystem]:
    running = start_system(stack)
    yield running
    stop_system(running)
