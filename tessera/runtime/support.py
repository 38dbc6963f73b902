"""Startup helpers shared by the PostgreSQL and Redis components."""

from __future__ import annotations

import time
from pathlib import Path

from .base import Component, read_pid, terminate
from .exceptions import ComponentStartError


def log_tail(log_file: Path, lines: int = 15) -> str:
    try:
        return "\n".join(log_file.read_text(errors="replace").splitlines()[-lines:])
    except FileNotFoundError:
        return "(no log written)"


def wait_started(component: Component, timeout_s: float) -> None:
    """Wait for a just-spawned component to answer; fail fast, with its log, if it exits.

    Unlike Component.wait_healthy this notices a process that died on startup (bad config,
    port race) instead of polling a dead port until the timeout.
    """
    deadline = time.monotonic() + timeout_s
    while (health := component.health()).state != "healthy":
        if read_pid(component.pid_file) is None:
            raise ComponentStartError(
                f"{component.name} exited during startup; last lines of {component.log_file}:\n"
                f"{log_tail(component.log_file)}"
            )
        if time.monotonic() > deadline:
            terminate(component.pid_file)
            raise ComponentStartError(
                f"{component.name} did not become healthy in {timeout_s:.0f}s ({health.detail}); "
                f"see {component.log_file}"
            )
        time.sleep(0.1)
