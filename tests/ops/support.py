"""Helpers of the ops tests: the ops process as a real OS process, HTTP, a stalled group."""

from __future__ import annotations

import sys
import time
from pathlib import Path

import httpx
from confluent_kafka import Consumer, TopicPartition

from load.system_harness import wait_until
from tessera.config import Settings
from tessera.runtime.base import read_pid, spawn, terminate


class OpsProcess:
    """`python -m tessera.ops` (what `tessera run ops` runs) on settings.ops_port."""

    def __init__(self, settings: Settings, env: dict[str, str] | None = None) -> None:
        self.settings = settings
        self.url = f"http://127.0.0.1:{settings.ops_port}"
        self.log_file: Path = settings.log_dir / "ops.log"
        self.pid_file: Path = settings.run_dir / "ops.pid"
        fast = {"TESSERA_OPS_LAG_INTERVAL_S": "1", "TESSERA_OPS_BUSINESS_INTERVAL_S": "1"}
        spawn(
            [sys.executable, "-m", "tessera.ops"],
            self.log_file,
            self.pid_file,
            env={**settings.to_env(), **fast, **(env or {})},
        )
        wait_until(self._healthy, 60, f"ops process ({self.log_file})")

    def _healthy(self) -> bool:
        if read_pid(self.pid_file) is None:
            raise AssertionError(f"ops process died: {self.log()[-2000:]}")
        try:
            return httpx.get(f"{self.url}/healthz", timeout=2).status_code == 200
        except httpx.HTTPError:
            return False

    def get(self, path: str, **kwargs: object) -> httpx.Response:
        kwargs.setdefault("timeout", 30)
        return httpx.get(f"{self.url}{path}", **kwargs)  # type: ignore[arg-type]

    def post(self, path: str, **kwargs: object) -> httpx.Response:
        return httpx.post(f"{self.url}{path}", timeout=30, **kwargs)  # type: ignore[arg-type]

    def log(self) -> str:
        return self.log_file.read_text() if self.log_file.exists() else ""

    def stop(self) -> None:
        terminate(self.pid_file, timeout_s=15)


def metric_names(body: str) -> set[str]:
    """Every metric family a /metrics page declares (# TYPE lines)."""
    return {line.split()[2] for line in body.splitlines() if line.startswith("# TYPE ")}


def sample(body: str, name: str, **labels: str) -> float | None:
    """The value of one sample, matched by name and a subset of its labels."""
    for line in body.splitlines():
        if not line.startswith(name + "{") and not line.startswith(name + " "):
            continue
        if all(f'{k}="{v}"' in line for k, v in labels.items()):
            return float(line.rsplit(" ", 1)[1])
    return None


def commit_group(settings: Settings, group: str, topic: str, offsets: dict[int, int]) -> None:
    """Commit `offsets` (partition -> offset) for `group` on `topic`, as a consumer would."""
    consumer = Consumer(
        {"bootstrap.servers": settings.kafka_bootstrap, "group.id": group, "log_level": 3}
    )
    try:
        parts = [TopicPartition(settings.topic(topic), p, o) for p, o in offsets.items()]
        consumer.commit(offsets=parts, asynchronous=False)
    finally:
        consumer.close()


def eventually(check, timeout_s: float = 30, what: str = "condition"):  # type: ignore[no-untyped-def]
    """Call check() until it returns a truthy value (returned) or raises no AssertionError."""
    deadline = time.monotonic() + timeout_s
    while True:
        try:
            result = check()
            if result:
                return result
        except AssertionError:
            if time.monotonic() > deadline:
                raise
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout_s}s waiting for {what}")
        time.sleep(0.3)
