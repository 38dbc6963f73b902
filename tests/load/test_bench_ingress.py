"""The ingress benchmark: CPU placement, the backends moved and given back, a tiny run."""

from __future__ import annotations

import dataclasses
import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from load import bench_ingress
from load.bench_ingress import backends_on, cpu_split, pinned
from tessera.config import PROJECT_ROOT, Settings, load_settings


def test_cpu_lists_are_read_as_taskset_reads_them() -> None:
    assert bench_ingress._cpu_set("0") == {0}
    assert bench_ingress._cpu_set("0-2,5") == {0, 1, 2, 5}


def test_servers_get_the_first_cpu_and_wrk_the_rest(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(os, "sched_getaffinity", lambda _pid: {0, 1, 2, 3})
    assert cpu_split(None) == ("0", "1,2,3")
    assert cpu_split("0-1") == ("0-1", "2,3")
    assert cpu_split("") == ("", "")  # pin nothing
    with pytest.raises(SystemExit, match="no CPU for the load generator"):
        cpu_split("0-3")
    monkeypatch.setattr(os, "sched_getaffinity", lambda _pid: {0})
    assert cpu_split(None) == ("", "")  # one CPU: nothing to separate
    assert pinned("") == [] and pinned("1,2") == ["taskset", "-c", "1,2"]


@pytest.fixture
def threaded_process() -> Iterator[subprocess.Popen[bytes]]:
    code = (
        "import threading, time\n"
        "for _ in range(2): threading.Thread(target=time.sleep, args=(60,), daemon=True).start()\n"
        "print('up', flush=True); time.sleep(60)\n"
    )
    proc = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE)
    assert proc.stdout is not None and proc.stdout.readline() == b"up\n"
    yield proc
    proc.kill()
    proc.wait()
    proc.stdout.close()


def affinities(pid: int) -> list[set[int]]:
    return [os.sched_getaffinity(tid) for tid in bench_ingress._threads(pid)]


def test_backends_move_to_the_load_cpus_and_come_back(
    tmp_path: Path, threaded_process: subprocess.Popen[bytes]
) -> None:
    settings = dataclasses.replace(load_settings(), home=tmp_path)
    settings.run_dir.mkdir(parents=True)
    (settings.run_dir / "kafka.pid").write_text(str(threaded_process.pid))  # redis: none
    before = affinities(threaded_process.pid)
    assert len(before) == 3
    target = max(os.sched_getaffinity(0))
    with backends_on(settings, str(target)) as moved:
        assert moved == ["kafka"]
        assert affinities(threaded_process.pid) == [{target}] * 3
    assert affinities(threaded_process.pid) == before
    with backends_on(settings, "") as moved:  # nothing pinned: nothing moved
        assert moved == []


@pytest.mark.timeout(180)
def test_a_tiny_run_prints_the_ratio(stack: Settings) -> None:
    started = time.monotonic()
    done = subprocess.run(
        [sys.executable, "-m", "load.bench_ingress", "--rounds", "1", "--duration", "1",
         "--warmup", "1", "--users", "5", "--connections", "8"],
        cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=170,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr
    lines = done.stdout.strip().splitlines()
    assert any(line.startswith("POST /api/v1/bookings: ") and "ratio" in line for line in lines)
    summary = json.loads(lines[-1])
    hello, ingress = summary["rounds"]["hello"][0], summary["rounds"]["ingress"][0]
    assert hello["rps"] > 0 and ingress["rps"] > 0 and ingress["non_2xx"] == 0
    assert summary["ratio"] == pytest.approx(ingress["rps"] / hello["rps"], abs=0.001)
    assert time.monotonic() - started < 170
