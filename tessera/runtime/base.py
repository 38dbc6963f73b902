"""The contract every locally managed component follows."""

from __future__ import annotations

import abc
import os
import signal
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from tessera.config import Settings

from .exceptions import ComponentStartError

HealthState = Literal["healthy", "unhealthy", "stopped"]


@dataclass(frozen=True)
class Health:
    name: str
    state: HealthState
    detail: str = ""


class Component(abc.ABC):
    """A background process Tessera starts, health-checks and stops.

    `start()` is idempotent: a healthy running instance is left alone.
    `stop()` leaves no process behind.
    """

    name: str

    def __init__(self, settings: Settings) -> None:
        self.settings = settings

    @abc.abstractmethod
    def ensure_installed(self) -> None: ...

    @abc.abstractmethod
    def start(self) -> None: ...

    @abc.abstractmethod
    def stop(self) -> None: ...

    @abc.abstractmethod
    def health(self) -> Health: ...

    @abc.abstractmethod
    def endpoints(self) -> dict[str, str]: ...

    @property
    def pid_file(self) -> Path:
        return self.settings.run_dir / f"{self.name}.pid"

    @property
    def log_file(self) -> Path:
        return self.settings.log_dir / f"{self.name}.log"

    def wait_healthy(self, timeout_s: float) -> None:
        deadline = time.monotonic() + timeout_s
        last = self.health()
        while last.state != "healthy":
            if time.monotonic() > deadline:
                raise ComponentStartError(
                    f"{self.name} did not become healthy in {timeout_s:.0f}s: {last.detail}. "
                    f"See {self.log_file}"
                )
            time.sleep(0.25)
            last = self.health()


def read_pid(pid_file: Path) -> int | None:
    try:
        pid = int(pid_file.read_text().strip())
    except (FileNotFoundError, ValueError):
        return None
    return pid if pid_alive(pid) else None


def pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    # A zombie child still answers kill(0); treat it as gone.
    try:
        with open(f"/proc/{pid}/stat") as fh:
            return fh.read().split()[2] != "Z"
    except FileNotFoundError:
        return False


# Popen objects of the background processes we started: held so they are not collected
# (and warned about) while the process deliberately outlives the call that started it.
_BACKGROUND: list[subprocess.Popen[bytes]] = []


def spawn(
    argv: list[str], log_file: Path, pid_file: Path, env: dict[str, str] | None = None
) -> int:
    """Start a detached background process and record its pid."""
    log_file.parent.mkdir(parents=True, exist_ok=True)
    pid_file.parent.mkdir(parents=True, exist_ok=True)
    with open(log_file, "ab") as log:
        proc = subprocess.Popen(  # noqa: S603 - argv is built by us, never from input
            argv,
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
            env={**os.environ, **(env or {})},
        )
    _BACKGROUND.append(proc)
    pid_file.write_text(str(proc.pid))
    return proc.pid


def terminate(pid_file: Path, timeout_s: float = 20.0) -> bool:
    """SIGTERM the process group recorded in pid_file, SIGKILL after timeout. True if it ran."""
    pid = read_pid(pid_file)
    if pid is None:
        pid_file.unlink(missing_ok=True)
        return False
    try:
        os.killpg(pid, signal.SIGTERM)
    except ProcessLookupError:
        pass
    deadline = time.monotonic() + timeout_s
    while pid_alive(pid) and time.monotonic() < deadline:
        time.sleep(0.1)
    if pid_alive(pid):
        try:
            os.killpg(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    pid_file.unlink(missing_ok=True)
    for proc in _BACKGROUND:
        proc.poll()  # reap our own children so they don't linger as zombies
    return True


def port_in_use(port: int) -> bool:
    import socket

    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.settimeout(0.2)
        return sock.connect_ex(("127.0.0.1", port)) == 0
