"""`make bench` in a tiny mode, end to end on the real stack: every figure is in
results.json, the plot is drawn, and the invariants held for both systems."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tessera.config import PROJECT_ROOT, Settings

TINY = {
    "BENCH_SECONDS": "3",
    "BENCH_WARMUP_S": "0.5",
    "BENCH_RATES": "25",
    "BENCH_ITEMS": "20",
    "BENCH_USERS": "20",
    "BENCH_WARM_RATE": "25",
    "BENCH_WARM_SECONDS": "2",
    "BENCH_PROFILE_SECONDS": "2",
    "BENCH_PARTITIONS": "3",
    "BENCH_BASELINE_WORKERS": "1",
    "BENCH_DRAIN_S": "30",
    "BENCH_IDLE_SECONDS": "1",
}
LATENCY = ("n", "p50", "p95", "p99", "max")
STEP = ("offered_per_s", "completed_per_s", "accepted_per_s", "sent", "accepted",
        "refused_sold_out", "errors",
        "outcomes", "accept_ms", "confirm_ms", "complete_ms", "terminal_ms", "generator_lag_ms",
        "cpu_s", "cpu_ms_per_booking", "series", "saturated", "saturation_reasons")  # fmt: skip
SCENARIO = ("ladder", "capacity_per_s", "max_sustained_offered_per_s",
            "saturation_offered_per_s", "invariants", "latency_key", "cpu_model")  # fmt: skip


@pytest.mark.timeout(240)
def test_tiny_bench_reports_every_figure_and_keeps_the_invariants(
    stack: Settings, tmp_path: Path
) -> None:
    env = {**os.environ, **TINY, "BENCH_OUT": str(tmp_path)}
    done = subprocess.run(
        [sys.executable, "-m", "load.bench"],
        cwd=PROJECT_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=230,
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    [run_dir] = [p for p in tmp_path.iterdir() if p.is_dir()]
    results = json.loads((run_dir / "results.json").read_text())
    assert (run_dir / "bench.png").stat().st_size > 10_000
    assert "Tessera / baseline" in (run_dir / "summary.txt").read_text()
    assert "Tessera / baseline" in done.stdout

    systems = {"tessera": results["tessera"]["http"], "baseline": results["baseline"]}
    for name, scenarios in systems.items():
        for scenario in ("spread", "flash"):
            result = scenarios[scenario]
            for key in SCENARIO:
                assert key in result, (name, scenario, key)
            assert result["invariants"]["ok"], (name, scenario, result["invariants"])
            step = result["ladder"][0]
            for key in STEP:
                assert key in step, (name, scenario, key)
            for key in ("accept_ms", "terminal_ms"):
                assert set(step[key]) == set(LATENCY)
                assert step[key]["n"] > 0, (name, scenario, key)
            assert step["completed_per_s"] > 0
            # every request answered: accepted, or refused at the door as sold out
            answered = step["accepted"] + step["refused_sold_out"]
            assert answered == step["sent"], step["errors"]
        assert scenarios["warm_up"]["idle_cores"], name
        spread = scenarios["spread"]
        assert spread["ladder"][0]["confirm_ms"]["p99"] is not None
        assert spread["half_saturation"]["confirm_ms"]["n"] > 0
    profile = results["tessera"]["http"]["spread"]["profile"]
    assert {"saga", "inventory", "payment", "ingress"} <= set(profile["processes"])
    assert "by_library_pct" in profile["processes"]["saga"], profile["processes"]["saga"]
    for scenario in ("spread", "flash"):
        assert results["ratios"][scenario]["throughput"] > 0
        assert results["ratios"][scenario]["p99_by_offered_rate"]
    assert "sustained_per_s" in results["targets"]
    assert results["config"]["rates"] == [25.0]
