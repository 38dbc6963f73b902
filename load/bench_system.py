"""The processes a benchmark runs: the local infrastructure, Tessera (pipelines, sinks,
ingress) on isolated topics, and the baseline service; plus CPU accounting per process tree.
"""

from __future__ import annotations

import contextlib
import dataclasses
import os
import signal
import subprocess
import sys
import time
import urllib.request
import uuid
from dataclasses import dataclass
from pathlib import Path

import jwt

from ingress.auth.devkeys import ensure_dev_keys
from ingress.auth.token_cli import mint_token
from load.system_harness import (
    RunningSystem,
    delete_prefixed_keys,
    free_port_block,
    start_system,
    stop_system,
    wait_until,
)
from tessera.config import PROJECT_ROOT, Settings
from tessera.runtime.processes import ROLES

TESSERA_ROLES = ("timers", "inventory", "saga", "payment", "sink-postgres", "sink-redis")
PROFILED_ROLES = (
    "ingress",
    "saga",
    "inventory",
    "payment",
    "timers",
    "sink-postgres",
    "sink-redis",
)


def infra_healthy(settings: Settings) -> bool:
    from tessera.runtime.stack import infrastructure

    return all(c.health().state == "healthy" for c in infrastructure(settings))


def ensure_infra(settings: Settings) -> bool:
    """Start Kafka, Postgres and Redis (`tessera up --infra-only`) unless they run; True if
    this call started them."""
    if infra_healthy(settings):
        return False
    subprocess.run(
        [sys.executable, "-m", "tessera.cli", "up", "--infra-only"], check=True, cwd=PROJECT_ROOT
    )
    return True


@dataclass
class Keys:
    """A benchmark's own development signing key: tokens for Tessera and the baseline alike."""

    home: Path

    @property
    def jwks(self) -> Path:
        return self.home / "keys" / "jwks.json"

    def tokens(self, settings: Settings, users: list[str], role: str = "USER") -> list[str]:
        """`tessera token`'s tokens, one per user. The first is minted by mint_token itself;
        the others copy its header and claims with their own sub and jti, signed with the key
        loaded once (mint_token re-reads the PEM each call: ~40 ms a token)."""
        if not users:
            return []
        keyed = dataclasses.replace(settings, home=self.home)
        first = mint_token(keyed, users[0], role, 4 * 3600)
        key, _ = ensure_dev_keys(self.home / "keys")
        header = jwt.get_unverified_header(first)
        claims = jwt.decode(first, options={"verify_signature": False})
        others = [
            jwt.encode(
                claims | {"sub": user, "jti": uuid.uuid4().hex},
                key,
                algorithm=header["alg"],
                headers={"kid": header["kid"]},
            )
            for user in users[1:]
        ]
        return [first, *others]


def _ready(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=1) as response:  # noqa: S310 - loopback
            return bool(response.status == 200)
    except OSError:
        return False


class ServerProcess:
    """A foreground server (granian) run as its own process group; stopped with SIGINT."""

    def __init__(self, argv: list[str], env: dict[str, str], log: Path, ready_url: str) -> None:
        self.log = log
        log.parent.mkdir(parents=True, exist_ok=True)
        with open(log, "ab") as out:
            self.proc = subprocess.Popen(
                argv,
                cwd=PROJECT_ROOT,
                env={**os.environ, **env},
                stdout=out,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                start_new_session=True,
            )
        try:
            wait_until(lambda: self._alive() and _ready(ready_url), 60, f"{argv} ready")
        except AssertionError:
            self.stop()
            raise RuntimeError(f"{' '.join(argv)} did not become ready; see {log}") from None

    def _alive(self) -> bool:
        if self.proc.poll() is not None:
            raise RuntimeError(f"{self.proc.args} exited; see {self.log}")
        return True

    @property
    def pid(self) -> int:
        return self.proc.pid

    def stop(self) -> None:
        if self.proc.poll() is not None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.proc.pid, signal.SIGINT)
        try:
            self.proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait()


@dataclass
class Tessera:
    system: RunningSystem
    ingress: ServerProcess | None

    @property
    def settings(self) -> Settings:
        return self.system.settings

    @property
    def log_dir(self) -> Path:
        """The processes' logs (a private home, deleted when the system stops)."""
        return self.system.pipelines.settings.log_dir

    @property
    def ingress_url(self) -> str:
        return f"http://127.0.0.1:{self.settings.ingress_port}"

    def pids(self) -> dict[str, int]:
        """Role -> pid of every Tessera process (the ingress's granian master included)."""
        found: dict[str, int] = {}
        for name, component in self.system.pipelines.components.items():
            with contextlib.suppress(OSError, ValueError):
                pid = int(component.pid_file.read_text())
                if _pid_alive(pid):
                    found[name] = pid
        if self.ingress is not None:
            found["ingress"] = self.ingress.pid
        return found


def start_tessera(
    stack: Settings, *, http: bool, partitions: int, overrides: dict[str, object]
) -> Tessera:
    """Tessera's roles on isolated topics, the in-process gateway simulator (as the
    baseline), and the ingress when `http` (as the `ingress` role once ROLES has it,
    else `python -m ingress.server`)."""
    options: dict[str, object] = {"gateway": "simulated", "ingress_port": free_port_block(1)}
    options |= {
        "gateway_timeout_s": stack.gateway_timeout_s,
        "gateway_attempts": stack.gateway_attempts,
    }
    system = start_system(
        stack, roles=TESSERA_ROLES, partitions=partitions, **(options | overrides)
    )
    ingress = None
    if http:
        try:
            # The pipelines' own settings: their private home (logs, state), not the stack's.
            settings = system.pipelines.settings
            ready = f"http://127.0.0.1:{settings.ingress_port}/readyz"
            log = settings.log_dir / "ingress.log"
            if any(role.name == "ingress" for role in ROLES):
                argv = [sys.executable, "-m", "tessera.cli", "run", "ingress"]
            else:
                argv = [sys.executable, "-m", "ingress.server"]
            ingress = ServerProcess(argv, settings.to_env(), log, ready)
        except BaseException:
            stop_system(system)
            raise
    return Tessera(system, ingress)


def stop_tessera(tessera: Tessera) -> None:
    try:
        if tessera.ingress is not None:
            tessera.ingress.stop()
    finally:
        stop_system(tessera.system)  # deletes the run's topics
        delete_prefixed_keys(tessera.settings.redis_url, tessera.settings.topic_prefix)


def start_baseline(
    stack: Settings, keys: Keys, workers: int, log_dir: Path, env: dict[str, str] | None = None
) -> tuple[ServerProcess, int]:
    port = free_port_block(1)
    argv = [sys.executable, "-m", "load.baselines.server", "--port", str(port)]
    argv += ["--workers", str(workers)]
    server = ServerProcess(
        argv,
        {**stack.to_env(), "TESSERA_JWKS": str(keys.jwks), **(env or {})},
        log_dir / "baseline.log",
        f"http://127.0.0.1:{port}/healthz",
    )
    return server, port


# --- CPU accounting ------------------------------------------------------------------

_TICK = os.sysconf("SC_CLK_TCK")


def _pid_alive(pid: int) -> bool:
    return Path(f"/proc/{pid}").exists()


def _proc_table() -> dict[int, tuple[int, float]]:
    """pid -> (ppid, user+system CPU seconds) of every process."""
    table: dict[int, tuple[int, float]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            raw = (entry / "stat").read_text()
        except OSError:
            continue
        fields = raw[raw.rfind(")") + 2 :].split()
        table[int(entry.name)] = (int(fields[1]), (int(fields[11]) + int(fields[12])) / _TICK)
    return table


def tree_cpu(roots: dict[str, int]) -> dict[str, float]:
    """CPU seconds used so far by each root's process tree (the root and its descendants)."""
    table = _proc_table()
    children: dict[int, list[int]] = {}
    for pid, (ppid, _) in table.items():
        children.setdefault(ppid, []).append(pid)
    result: dict[str, float] = {}
    for name, root in roots.items():
        total, stack = 0.0, [root]
        while stack:
            pid = stack.pop()
            if pid in table:
                total += table[pid][1]
            stack.extend(children.get(pid, ()))
        result[name] = total
    return result


def infra_pids(settings: Settings) -> dict[str, int]:
    found = {}
    for name in ("kafka", "postgres", "redis"):
        with contextlib.suppress(OSError, ValueError):
            found[name] = int((settings.run_dir / f"{name}.pid").read_text().strip())
    return found


class CpuMeter:
    """CPU seconds per named process tree between start() and stop()."""

    def __init__(self, roots: dict[str, int]) -> None:
        self.roots = roots
        self.before: dict[str, float] = {}
        self.started = 0.0

    def start(self) -> None:
        self.before = tree_cpu(self.roots)
        self.before["generator"] = time.process_time()
        self.started = time.monotonic()

    def stop(self) -> dict[str, float]:
        after = tree_cpu(self.roots)
        after["generator"] = time.process_time()
        elapsed = time.monotonic() - self.started
        used = {k: round(after.get(k, 0.0) - v, 2) for k, v in self.before.items()}
        return {"wall_s": round(elapsed, 2), **used}
