"""Worker startup through ASGI lifespan: services up, then the interpreter settings of a
long-lived worker (the GIL switch interval granian's request hand-over waits on)."""

from __future__ import annotations

import gc
import sys
from collections.abc import Callable
from typing import Any

import pytest

from ingress.app import IngressApp
from ingress.config import IngressConfig, switch_interval_ms
from load.bench_ingress import hello_app
from tessera.config import Settings

from .keyring import KeyRing

pytestmark = pytest.mark.anyio


async def run_lifespan(app: Callable[..., Any]) -> list[tuple[str, float]]:
    """(message type sent, switch interval at that moment) for a startup and a shutdown."""
    incoming = [{"type": "lifespan.startup"}, {"type": "lifespan.shutdown"}]
    sent: list[tuple[str, float]] = []

    async def receive() -> dict[str, Any]:
        return incoming.pop(0)

    async def send(message: dict[str, Any]) -> None:
        sent.append((message["type"], sys.getswitchinterval()))

    await app({"type": "lifespan"}, receive, send)
    return sent


@pytest.fixture
def switch_interval_restored() -> Any:
    before = sys.getswitchinterval()
    yield
    sys.setswitchinterval(before)
    gc.unfreeze()  # the worker's startup froze what the test process had allocated


async def test_worker_startup_sets_the_configured_switch_interval(
    isolated_settings: Callable[..., Settings], keyring: KeyRing, switch_interval_restored: Any
) -> None:
    config = IngressConfig(auth=keyring.auth_config(), switch_interval_ms=0.25)
    sent = await run_lifespan(IngressApp(isolated_settings(), config))
    assert sent[0] == ("lifespan.startup.complete", pytest.approx(0.00025))
    assert sent[1][0] == "lifespan.shutdown.complete"


async def test_the_bench_baseline_starts_with_the_ingress_switch_interval(
    monkeypatch: pytest.MonkeyPatch, switch_interval_restored: Any
) -> None:
    monkeypatch.setenv("TESSERA_INGRESS_SWITCH_INTERVAL_MS", "0.75")
    assert switch_interval_ms() == 0.75
    sent = await run_lifespan(hello_app)
    assert sent == [
        ("lifespan.startup.complete", pytest.approx(0.00075)),
        ("lifespan.shutdown.complete", pytest.approx(0.00075)),
    ]
    monkeypatch.delenv("TESSERA_INGRESS_SWITCH_INTERVAL_MS")
    assert switch_interval_ms() == IngressConfig.switch_interval_ms == 0.5
