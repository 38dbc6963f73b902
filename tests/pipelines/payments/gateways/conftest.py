"""Real out-of-process gateways for the adapter tests: stripe-mock and the HTTP simulator.

Each runs as a subprocess on a free port, in its own session so teardown reaches every
child. A binary that cannot be installed or a server that does not come up fails the
test: these tests exist to prove the adapters work against them.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tessera.config import PROJECT_ROOT, Settings

INSTALL_STRIPE_MOCK = PROJECT_ROOT / "deploy" / "stripe-mock" / "install.sh"
STRIPE_TEST_KEY = "sk_test_123"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_process(
    argv: list[str], log_path: Path, env: dict[str, str] | None = None
) -> subprocess.Popen[bytes]:
    with open(log_path, "wb") as log:
        return subprocess.Popen(
            argv,
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            cwd=PROJECT_ROOT,
            env={**os.environ, **(env or {})},
            start_new_session=True,
        )


def stop_process(proc: subprocess.Popen[bytes]) -> None:
    """SIGTERM the process group we started, SIGKILL it if it lingers."""
    for sig, grace in ((signal.SIGTERM, 5.0), (signal.SIGKILL, 5.0)):
        try:
            os.killpg(proc.pid, sig)
        except ProcessLookupError:
            break
        try:
            proc.wait(grace)
        except subprocess.TimeoutExpired:
            continue
        # The leader is gone; make sure no child of the group outlives it.
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        break
    proc.wait()


def wait_ready(
    proc: subprocess.Popen[bytes], url: str, log_path: Path, headers: dict[str, str] | None = None
) -> None:
    deadline = time.monotonic() + 20
    last = "no attempt"
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            pytest.fail(f"{proc.args} exited with {proc.returncode}:\n{log_path.read_text()}")
        try:
            if httpx.get(url, headers=headers, timeout=1).status_code == 200:
                return
        except httpx.HTTPError as exc:
            last = repr(exc)
        time.sleep(0.1)
    stop_process(proc)
    pytest.fail(f"{proc.args} not ready at {url}: {last}\n{log_path.read_text()}")


@pytest.fixture(scope="session")
def stripe_mock_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    binary = Settings().home / "bin" / "stripe-mock"
    if not binary.exists():
        done = subprocess.run(  # noqa: S603 - our own script
            [str(INSTALL_STRIPE_MOCK)], capture_output=True, text=True, timeout=600
        )
        if done.returncode != 0 or not binary.exists():
            pytest.fail(f"stripe-mock install failed:\n{done.stdout}\n{done.stderr}")
    port = free_port()
    log_path = tmp_path_factory.mktemp("stripe-mock") / "stripe-mock.log"
    # `-http-addr` alone still opens HTTPS on the fixed :12112, so give HTTPS a free port too
    # (an empty port lets the kernel choose); `-http-port` would bind every interface.
    argv = [str(binary), "-http-addr", f"127.0.0.1:{port}", "-https-addr", "127.0.0.1:"]
    proc = start_process(argv, log_path)
    url = f"http://127.0.0.1:{port}"
    try:
        auth = {"Authorization": f"Bearer {STRIPE_TEST_KEY}"}
        wait_ready(proc, f"{url}/v1/payment_intents/pi_ready", log_path, auth)
        yield url
    finally:
        stop_process(proc)


@pytest.fixture(scope="module")
def simulator_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    port = free_port()
    log_path = tmp_path_factory.mktemp("simulator") / "simulator.log"
    argv = [sys.executable, "-m", "pipelines.payments.gateways.simulated_http", "--port", str(port)]
    env = {
        "TESSERA_SIM_LATENCY_MS": "1",
        "TESSERA_SIM_SLOW_MS": "300",
        "TESSERA_SIM_TIMEOUT_HANGS": "1",
    }
    proc = start_process(argv, log_path, env)
    url = f"http://127.0.0.1:{port}"
    try:
        wait_ready(proc, f"{url}/healthz", log_path)
        yield url
    finally:
        stop_process(proc)
