"""Private PostgreSQL/Redis instances for the runtime tests, on free ports and a scratch home.

They never touch the shared stack (.tessera, ports 15432/16379). A component that cannot
start fails the test: these tests exist to prove that it can.
"""

from __future__ import annotations

import shutil
import socket
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from tessera.config import SERVICE_DATABASES, Settings
from tessera.runtime.postgres import PostgresComponent

# Env overrides would point the components' DSNs/URLs away from the private instances.
_OVERRIDES = ("TESSERA_REDIS_URL", *(f"TESSERA_PG_DSN_{s.upper()}" for s in SERVICE_DATABASES))


def free_ports(count: int) -> list[int]:
    """Ports the kernel says are free; all held open together so they are distinct."""
    socks = [socket.socket() for _ in range(count)]
    try:
        for sock in socks:
            sock.bind(("127.0.0.1", 0))
        return [sock.getsockname()[1] for sock in socks]
    finally:
        for sock in socks:
            sock.close()


@pytest.fixture(scope="session")
def runtime_settings() -> Iterator[Settings]:
    # Not tmp_path: pytest's base temp dir is mode 0700, and postgres runs as the `postgres`
    # OS user, which must be able to reach its data and socket directories.
    home = Path(tempfile.mkdtemp(prefix="tessera-runtime-"))
    home.chmod(0o755)
    pg_port, redis_port = free_ports(2)
    with pytest.MonkeyPatch.context() as mp:
        for var in _OVERRIDES:
            mp.delenv(var, raising=False)
        yield Settings(home=home, postgres_port=pg_port, redis_port=redis_port)
    shutil.rmtree(home, ignore_errors=True)


@pytest.fixture(scope="session")
def postgres(runtime_settings: Settings) -> Iterator[PostgresComponent]:
    component = PostgresComponent(runtime_settings)
    component.start()
    yield component
    component.stop()
