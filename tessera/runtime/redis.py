"""A private Redis instance: Debian's redis-server with our own port, config and data dir.

It holds idempotency keys (invariant 6: same key + same body ⇒ same response), so it keeps
an append-only file fsynced every second: a restart loses at most about one second of keys.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import redis
from redis.backoff import NoBackoff
from redis.retry import Retry

from .base import Component, Health, port_in_use, read_pid, spawn, terminate
from .exceptions import PortInUseError, RuntimeSetupError
from .packages import apt_install
from .support import wait_started

START_TIMEOUT_S = 30.0


def _quote(path: Path) -> str:
    return '"' + str(path).replace("\\", "\\\\").replace('"', '\\"') + '"'


class RedisComponent(Component):
    name = "redis"

    @property
    def data_dir(self) -> Path:
        return self.settings.data_dir / "redis"

    @property
    def config_file(self) -> Path:
        return self.settings.run_dir / "redis.conf"

    def ensure_installed(self) -> None:
        self._server_binary()

    def _server_binary(self) -> str:
        if shutil.which("redis-server") is None:
            apt_install(["redis-server"], "redis-server is not on PATH")
        binary = shutil.which("redis-server")
        if binary is None:
            raise RuntimeSetupError("installed redis-server, but it is still not on PATH")
        return binary

    def _config(self) -> str:
        return "\n".join(
            [
                "bind 127.0.0.1",
                f"port {self.settings.redis_port}",
                # Loopback-only bind already keeps other hosts out; protected mode adds nothing.
                "protected-mode no",
                # spawn() backgrounds it and records the pid; a daemon would fork away from it.
                "daemonize no",
                f"dir {_quote(self.data_dir)}",
                "appendonly yes",
                "appendfsync everysec",
                # The AOF is the only persistence; RDB snapshots would just fork and copy.
                'save ""',
                'logfile ""',
                "",
            ]
        )

    def start(self) -> None:
        binary = self._server_binary()
        if read_pid(self.pid_file) is not None:
            wait_started(self, START_TIMEOUT_S)  # ours: healthy already, or still loading
            return
        if port_in_use(self.settings.redis_port):
            raise PortInUseError(
                f"port {self.settings.redis_port} (redis) is taken by a process Tessera did not "
                "start; set TESSERA_REDIS_PORT to a free port"
            )
        self.data_dir.mkdir(parents=True, exist_ok=True)
        self.config_file.parent.mkdir(parents=True, exist_ok=True)
        self.config_file.write_text(self._config())
        spawn([binary, str(self.config_file)], self.log_file, self.pid_file)
        wait_started(self, START_TIMEOUT_S)

    def stop(self) -> None:
        # SIGTERM makes redis fsync the AOF and exit cleanly.
        terminate(self.pid_file)

    def health(self) -> Health:
        client = redis.Redis(
            host="127.0.0.1",
            port=self.settings.redis_port,
            socket_timeout=1,
            socket_connect_timeout=1,
            # redis-py retries a refused connection with backoff by default (~4 s): a health
            # probe must answer "stopped" at once.
            retry=Retry(NoBackoff(), 0),
        )
        try:
            client.ping()
        except redis.RedisError as exc:
            state = "unhealthy" if read_pid(self.pid_file) is not None else "stopped"
            return Health(self.name, state, str(exc) or type(exc).__name__)
        finally:
            client.close()
        return Health(self.name, "healthy", f"127.0.0.1:{self.settings.redis_port}")

    def endpoints(self) -> dict[str, str]:
        return {"redis": self.settings.redis_url}
