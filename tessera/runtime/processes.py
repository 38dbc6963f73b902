"""Tessera's own long-running processes (pipelines, sinks, ingress), run in the background.

Each process serves Prometheus metrics on its own port; the port answering is its
liveness signal, and `tessera status` reads it.
"""

from __future__ import annotations

import dataclasses
import sys
import urllib.request
from dataclasses import dataclass

from tessera.config import Settings

from .base import Component, Health, read_pid, spawn, terminate


@dataclass(frozen=True)
class Role:
    """A process `tessera run ROLE` starts; `metrics_offset` is added to the ops port."""

    name: str
    entry: str
    metrics_offset: int
    http_port_setting: str | None = None


# Start order: the timer service first (others schedule into it), then the pipelines.
ROLES: tuple[Role, ...] = (
    Role("timers", "pipelines.timers.app:main", metrics_offset=1),
    Role("inventory", "pipelines.inventory.app:main", metrics_offset=2),
    Role("saga", "pipelines.saga.app:main", metrics_offset=3),
    Role("payment", "pipelines.payments.app:main", metrics_offset=4),
    Role("sink-postgres", "sinks.postgres.app:main", metrics_offset=5),
    Role("sink-redis", "sinks.redis_cache.app:main", metrics_offset=6),
    Role("notifications", "sinks.notifications.app:main", metrics_offset=7),
    Role("ingress", "ingress.server:main", metrics_offset=8, http_port_setting="ingress_port"),
    Role("ops", "tessera.ops.app:main", metrics_offset=0, http_port_setting="ops_port"),
)


class ProcessComponent(Component):
    def __init__(self, settings: Settings, role: Role, instance: int = 1) -> None:
        super().__init__(dataclasses.replace(settings, instance=instance))
        self.role = role
        self.name = role.name if instance == 1 else f"{role.name}-{instance}"

    @property
    def metrics_port(self) -> int:
        return metrics_port_of(self.settings, self.role)

    def ensure_installed(self) -> None:
        return None

    def start(self) -> None:
        self.start_detached()
        self.wait_healthy(timeout_s=90)

    def start_detached(self) -> None:
        if read_pid(self.pid_file) is not None:
            return
        spawn(
            [sys.executable, "-m", "tessera.cli", "run", self.role.name],
            self.log_file,
            self.pid_file,
            env=self.settings.to_env(),
        )

    def stop(self) -> None:
        terminate(self.pid_file, timeout_s=20)

    def health(self) -> Health:
        pid = read_pid(self.pid_file)
        if pid is None:
            return Health(self.name, "stopped", "not running")
        if self.role.http_port_setting:
            # An HTTP server (granian forks its workers): its own /healthz answers.
            return self._probe(f"{self.http_url}/healthz", pid, expect_pid=False)
        return self._probe(f"http://127.0.0.1:{self.metrics_port}/metrics", pid, expect_pid=True)

    def _probe(self, url: str, pid: int, expect_pid: bool) -> Health:
        try:
            with urllib.request.urlopen(url, timeout=2) as response:  # noqa: S310 - loopback
                body = response.read().decode()
        except OSError as exc:
            return Health(self.name, "unhealthy", f"{url} not answering: {exc}")
        if expect_pid and f'pid="{pid}"' not in body:
            return Health(self.name, "unhealthy", f"{url} is another process's")
        return Health(self.name, "healthy", f"pid {pid}")

    @property
    def http_url(self) -> str:
        port = getattr(self.settings, self.role.http_port_setting or "")
        return f"http://127.0.0.1:{port}"

    def endpoints(self) -> dict[str, str]:
        if self.role.http_port_setting:
            return {self.name: self.http_url, f"metrics.{self.name}": f"{self.http_url}/metrics"}
        return {f"metrics.{self.name}": f"http://127.0.0.1:{self.metrics_port}/metrics"}


INSTANCE_PORT_STRIDE = 20


def metrics_port_of(settings: Settings, role: Role) -> int:
    return settings.ops_port + role.metrics_offset + INSTANCE_PORT_STRIDE * (settings.instance - 1)


def tessera_processes(settings: Settings) -> list[ProcessComponent]:
    return [ProcessComponent(settings, role) for role in ROLES]


def find_role(name: str) -> Role:
    for role in ROLES:
        if role.name == name:
            return role
    known = ", ".join(r.name for r in ROLES) or "none yet"
    raise SystemExit(f"unknown role {name!r}; known roles: {known}")
