"""A private PostgreSQL instance: Debian's binaries, our own data directory and port.

Development and tests only: it listens on 127.0.0.1 and trusts every loopback connection
(no passwords). Production points TESSERA_PG_DSN_<SERVICE> at a managed PostgreSQL instead.
"""

from __future__ import annotations

import os
import pwd
import subprocess
from pathlib import Path

import psycopg
from psycopg import errors, sql

from tessera.config import SERVICE_DATABASES

from .base import Component, Health, port_in_use, read_pid, spawn, terminate
from .exceptions import PortInUseError, RuntimeSetupError
from .migrate import apply_migrations
from .packages import apt_install
from .support import wait_started

PG_ROOT = Path("/usr/lib/postgresql")
OS_USER = "postgres"
START_TIMEOUT_S = 60.0
# Sized for a 2-core dev/test box; durability settings (fsync, synchronous_commit) stay default.
SERVER_SETTINGS = {"shared_buffers": "256MB", "max_connections": "200"}


def _version_key(bin_dir: Path) -> tuple[int, ...]:
    return tuple(int(p) for p in bin_dir.parent.name.split(".") if p.isdigit())


def find_bin_dir() -> Path | None:
    """The newest installed /usr/lib/postgresql/<version>/bin, if any."""
    found = [p.parent for p in PG_ROOT.glob("*/bin/postgres")]
    return max(found, key=_version_key) if found else None


def as_db_owner(argv: list[str]) -> list[str]:
    """PostgreSQL refuses to run as root, so when we are root drop to the postgres OS user.

    setpriv execs in place (unlike runuser, which forks and waits), so the pid spawn()
    records is the postmaster itself.
    """
    if os.geteuid() != 0:
        return argv
    return ["setpriv", f"--reuid={OS_USER}", f"--regid={OS_USER}", "--init-groups", "--", *argv]


class PostgresComponent(Component):
    name = "postgres"

    @property
    def data_dir(self) -> Path:
        return self.settings.data_dir / "postgres"

    @property
    def socket_dir(self) -> Path:
        return self.settings.run_dir / "postgres"

    @property
    def admin_dsn(self) -> str:
        settings = self.settings
        return f"postgresql://{settings.postgres_user}@127.0.0.1:{settings.postgres_port}/postgres"

    def ensure_installed(self) -> None:
        self._bin_dir()

    def _bin_dir(self) -> Path:
        if find_bin_dir() is None:
            apt_install(["postgresql"], f"PostgreSQL server binaries are missing from {PG_ROOT}")
        bin_dir = find_bin_dir()
        if bin_dir is None:
            raise RuntimeSetupError(f"installed postgresql, but found no {PG_ROOT}/*/bin/postgres")
        if os.geteuid() == 0:
            try:
                pwd.getpwnam(OS_USER)
            except KeyError as exc:
                raise RuntimeSetupError(
                    f"running as root needs the '{OS_USER}' OS user (the postgresql package "
                    f"creates it): adduser --system --group {OS_USER}"
                ) from exc
        return bin_dir

    def start(self) -> None:
        bin_dir = self._bin_dir()
        if read_pid(self.pid_file) is not None:
            wait_started(self, START_TIMEOUT_S)  # ours: healthy already, or still starting
        elif port_in_use(self.settings.postgres_port):
            raise PortInUseError(
                f"port {self.settings.postgres_port} (postgres) is taken by a process Tessera did "
                "not start; set TESSERA_POSTGRES_PORT to a free port"
            )
        else:
            self._prepare(bin_dir)
            options = {
                "listen_addresses": "127.0.0.1",
                "port": str(self.settings.postgres_port),
                "unix_socket_directories": str(self.socket_dir),
                **SERVER_SETTINGS,
            }
            argv = [str(bin_dir / "postgres"), "-D", str(self.data_dir)]
            for key, value in options.items():
                argv += ["-c", f"{key}={value}"]
            spawn(as_db_owner(argv), self.log_file, self.pid_file)
            wait_started(self, START_TIMEOUT_S)
        # Cheap and idempotent, so also on an already-running server: picks up new migrations.
        self._create_databases()
        apply_migrations(self.settings)

    def _prepare(self, bin_dir: Path) -> None:
        for directory in (self.settings.log_dir, self.settings.data_dir, self.socket_dir):
            directory.mkdir(parents=True, exist_ok=True)
        self.data_dir.mkdir(mode=0o700, exist_ok=True)
        if os.geteuid() == 0:
            user = pwd.getpwnam(OS_USER)
            for directory in (self.data_dir, self.socket_dir):
                os.chown(directory, user.pw_uid, user.pw_gid)
            probe = ["/usr/bin/test", "-w", str(self.data_dir), "-a", "-w", str(self.socket_dir)]
            reach = subprocess.run(as_db_owner(probe), check=False)  # noqa: S603 - argv built here
            if reach.returncode != 0:
                raise RuntimeSetupError(
                    f"the {OS_USER} OS user cannot write {self.data_dir} or {self.socket_dir}: "
                    f"every parent of TESSERA_HOME ({self.settings.home}) must be searchable by "
                    "others (chmod o+x), or choose a TESSERA_HOME that is"
                )
        if (self.data_dir / "PG_VERSION").exists():
            return
        initdb = [str(bin_dir / "initdb"), "-D", str(self.data_dir), "--no-instructions"]
        # Trust auth: dev/test only, and the server listens on loopback alone.
        initdb += ["-U", self.settings.postgres_user, "--auth=trust"]
        initdb += ["--encoding=UTF8", "--locale=C"]
        result = subprocess.run(  # noqa: S603 - argv built here
            as_db_owner(initdb), cwd=self.data_dir, capture_output=True, text=True, check=False
        )
        if result.returncode != 0:
            raise RuntimeSetupError(f"initdb failed:\n{(result.stderr or result.stdout)[-2000:]}")

    def _create_databases(self) -> None:
        with psycopg.connect(self.admin_dsn, autocommit=True) as conn:
            existing = {row[0] for row in conn.execute("SELECT datname FROM pg_database")}
            for service in SERVICE_DATABASES:
                database = f"tessera_{service}"
                if database in existing:
                    continue
                try:
                    conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(database)))
                except errors.DuplicateDatabase:
                    pass  # a concurrent `tessera up` created it first

    def stop(self) -> None:
        bin_dir = find_bin_dir()
        if bin_dir is not None and (self.data_dir / "postmaster.pid").exists():
            # Fast: roll back open transactions and shut down cleanly now, not after clients leave.
            pg_ctl = [str(bin_dir / "pg_ctl"), "stop", "-D", str(self.data_dir), "-m", "fast"]
            subprocess.run(  # noqa: S603 - argv built here
                as_db_owner([*pg_ctl, "-w", "-t", "30"]), capture_output=True, check=False
            )
        terminate(self.pid_file)  # whatever pg_ctl did not stop; clears the pid file

    def health(self) -> Health:
        try:
            with psycopg.connect(self.admin_dsn, connect_timeout=2) as conn:
                conn.execute("SELECT 1")
        except psycopg.Error as exc:
            state = "unhealthy" if read_pid(self.pid_file) is not None else "stopped"
            detail = str(exc).strip().splitlines()
            return Health(self.name, state, detail[0] if detail else type(exc).__name__)
        return Health(self.name, "healthy", f"127.0.0.1:{self.settings.postgres_port}")

    def endpoints(self) -> dict[str, str]:
        return {f"postgres.{s}": self.settings.postgres_dsn(s) for s in SERVICE_DATABASES}
