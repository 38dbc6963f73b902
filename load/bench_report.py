"""The benchmark's plot (bench.png) and its printed summary, both from results.json alone."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

COLORS = {"tessera-http": "tab:blue", "tessera-kafka": "tab:green", "baseline": "tab:orange"}
STYLES = {"spread": "-", "flash": "--"}


def scenario_results(results: dict[str, Any]) -> Iterator[tuple[str, dict[str, Any]]]:
    """(system name, {scenario: result}) for every system and path that ran."""
    for path, scenarios in results.get("tessera", {}).items():
        if isinstance(scenarios, dict) and path in ("http", "kafka"):
            yield f"tessera-{path}", {k: v for k, v in scenarios.items() if "ladder" in v}
    baseline = results.get("baseline")
    if baseline:
        yield (
            "baseline",
            {k: v for k, v in baseline.items() if isinstance(v, dict) and "ladder" in v},
        )


def _warm_ups(results: dict[str, Any]) -> Iterator[tuple[str, dict[str, Any]]]:
    for path, section in results.get("tessera", {}).items():
        if isinstance(section, dict) and "warm_up" in section:
            yield f"tessera-{path}", section["warm_up"]
    if "warm_up" in results.get("baseline", {}):
        yield "baseline", results["baseline"]["warm_up"]


def _steps(result: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    steps = [("ladder", s) for s in result["ladder"]]
    if result.get("half_saturation"):
        steps.append(("half", result["half_saturation"]))
    return steps


def plot(results: dict[str, Any], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(2, 2, figsize=(16, 9), gridspec_kw={"width_ratios": [2.2, 1]})
    (thr, thr_rate), (lat, lat_rate) = axes
    labelled: set[str] = set()
    for system, scenarios in scenario_results(results):
        color = COLORS.get(system, "tab:gray")
        for scenario, result in scenarios.items():
            style = STYLES.get(scenario, ":")
            name = f"{system} {scenario}"
            for kind, step in _steps(result):
                s = step.get("series") or {}
                if not s:
                    continue
                label = name if name not in labelled else None
                labelled.add(name)
                thr.plot(s["t"], s["completed"], style, color=color, lw=1.2, label=label)
                thr.plot(s["t"], s["offered"], ":", color="black", lw=0.7)
                for q, alpha in (("p50", 0.45), ("p95", 0.7), ("p99", 1.0)):
                    points = [(t, v) for t, v in zip(s["t"], s[q], strict=False) if v]
                    if points:
                        xs, ys = zip(*points, strict=False)
                        lat.plot(xs, ys, style, color=color, alpha=alpha, lw=1.0)
                if kind == "ladder" and s["t"]:
                    thr.annotate(f"{step['offered_per_s']:g}", (s["t"][0], step["offered_per_s"]),
                                 fontsize=6, color="gray")  # fmt: skip
            ladder = result["ladder"]
            rates = [x["offered_per_s"] for x in ladder]
            key = result["latency_key"]
            thr_rate.plot(rates, [x["completed_per_s"] for x in ladder], style + "o", color=color,
                          ms=3, label=name)  # fmt: skip
            for q, marker in (("p50", "v"), ("p99", "^")):
                pts = [(r, x[key][q]) for r, x in zip(rates, ladder, strict=False) if x[key][q]]
                if pts:
                    xs, ys = zip(*pts, strict=False)
                    lat_rate.plot(xs, ys, style + marker, color=color, ms=4,
                                  label=f"{name} {q}")  # fmt: skip
    thr.set_title("bookings reaching a terminal status per second (dotted: offered)")
    thr.set_ylabel("per second")
    thr.legend(fontsize=7, loc="upper left")
    lat.set_title("latency by due second: p50 / p95 / p99 (faint to solid); spread: POST -> "
                  "CONFIRMED, flash: POST -> terminal")  # fmt: skip
    lat.set_yscale("log")
    lat.set_ylabel("ms")
    lat.set_xlabel("seconds since the benchmark started")
    top = max(max(ax.get_xlim()[1] for ax in (thr, lat)), 1)
    for ax in (thr, lat):
        ax.set_xlim(0, top)
        ax.grid(alpha=0.3)
    thr_rate.set_title("completed/s against offered/s (step-up)")
    lim = max(thr_rate.get_xlim()[1], thr_rate.get_ylim()[1])
    thr_rate.plot([0, lim], [0, lim], ":", color="black", lw=0.7)
    thr_rate.set_xlabel("offered per second")
    thr_rate.legend(fontsize=7)
    lat_rate.set_title("p50 / p99 against offered/s")
    lat_rate.set_yscale("log")
    lat_rate.set_xlabel("offered per second")
    lat_rate.set_ylabel("ms")
    lat_rate.legend(fontsize=6)
    for ax in (thr_rate, lat_rate):
        ax.grid(alpha=0.3)
    machine = results.get("machine", {})
    fig.suptitle(
        f"Tessera vs baseline - {results.get('started_at', '')[:19]} - "
        f"{machine.get('cpus')} CPUs {machine.get('cpu_model', '')}",
        fontsize=10,
    )
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def _fmt(value: Any, suffix: str = "") -> str:
    return "-" if value is None else f"{value:g}{suffix}"


def summary(results: dict[str, Any]) -> str:
    lines = [
        f"Tessera benchmark {results.get('run_id')}  {results.get('started_at', '')[:19]}Z  "
        f"-> {results.get('out_dir')}",
    ]
    cfg = results.get("config", {})
    machine = results.get("machine", {})
    lines.append(
        f"machine: {machine.get('cpus')} CPUs ({machine.get('cpu_model')}), load average at "
        f"start {tuple(round(x, 2) for x in machine.get('loadavg_at_start', ()))}, at end "
        f"{tuple(round(x, 2) for x in machine.get('loadavg_at_end', ()))}"
    )
    lines.append(
        f"settings: {cfg.get('seconds')} s per step, commit interval {cfg.get('commit_interval_s')}"
        f" s, gateway {cfg.get('sim_latency_ms')}+{cfg.get('sim_latency_jitter_ms')} ms "
        f"(bulkhead {cfg.get('gateway_bulkhead')}), ingress workers "
        f"{cfg.get('ingress_workers')}, baseline workers {cfg.get('baseline_workers')}"
    )
    for system, warm in _warm_ups(results):
        idle = warm.get("idle_cores")
        if idle:
            lines.append(
                f"{system} idle (no load, after the warm-up), cores: "
                + ", ".join(f"{k} {v:g}" for k, v in idle.items())
            )
    for system, scenarios in scenario_results(results):
        for scenario, result in scenarios.items():
            key = result["latency_key"]
            what = "POST->CONFIRMED" if key == "confirm_ms" else "POST->terminal"
            lines.append("")
            lines.append(f"{system} / {scenario}   (latency: {what}, ms)")
            lines.append(
                f"  {'offered/s':>9} {'done/s':>8} {'accept/s':>8} {'p50':>8} {'p95':>8} "
                f"{'p99':>8} {'n':>6}  {'CPU ms/booking app+infra':>24}  note"
            )
            for kind, step in _steps(result):
                lat = step[key]
                cpu = step.get("cpu_ms_per_booking", {})
                note = ", ".join(step.get("saturation_reasons") or [])
                if kind == "half":
                    note = ("half of capacity; " + note).rstrip("; ")
                lines.append(
                    f"  {step['offered_per_s']:>9g} {step['completed_per_s']:>8.1f} "
                    f"{step['accepted_per_s']:>8.1f} {_fmt(lat['p50']):>8} {_fmt(lat['p95']):>8}"
                    f" {_fmt(lat['p99']):>8} {lat['n']:>6}  "
                    f"{_fmt(cpu.get('app')):>11} + {_fmt(cpu.get('infra')):<10}  {note}"
                )
            if scenario == "flash":
                winners = [s["confirm_ms"] for s in result["ladder"] if s["confirm_ms"]["n"]]
                if winners:
                    w = winners[-1]
                    lines.append(
                        f"  winners POST->CONFIRMED at the last step: p50 {w['p50']} "
                        f"p99 {w['p99']} ms (n={w['n']})"
                    )
            lines.append(
                f"  capacity {result['capacity_per_s']:g}/s; kept up to "
                f"{_fmt(result['max_sustained_offered_per_s'], '/s')} offered; saturated at "
                f"{_fmt(result['saturation_offered_per_s'], '/s')} offered"
            )
            model = result.get("cpu_model")
            if model:
                top = sorted(
                    model["by_process"].items(),
                    key=lambda kv: -(kv[1]["ms_per_booking"] + kv[1]["fixed_cores"]),
                )
                lines.append(
                    f"  CPU model over {model['fitted_steps']} steps (cores = base + rate x cost): "
                    f"base {model['fixed_cores']:g} cores (does not grow with the rate: per commit,"
                    f" per poll), {model['ms_per_booking']:g} ms per booking -> "
                    f"{_fmt(model['implied_capacity_per_s'], '/s')} on {model['cores']} idle cores"
                )
                lines.append(
                    "    "
                    + ", ".join(
                        f"{k} {v['fixed_cores']:g}c+{v['ms_per_booking']:g}ms" for k, v in top
                    )
                )
            inv = result["invariants"]
            lines.append(f"  invariants: {'OK' if inv['ok'] else 'VIOLATED'}" + (
                "" if inv["ok"] else f"  {_violations(inv)}"))  # fmt: skip
    ratio = results.get("ratios", {})
    if ratio:
        lines.append("")
        lines.append("Tessera / baseline (HTTP path)")
        for scenario, entry in ratio.items():
            lines.append(
                f"  {scenario}: throughput {_fmt(entry.get('throughput'), 'x')}; p99 "
                f"{entry['latency']} {_fmt(entry.get('p99'), 'x')} at "
                f"{_fmt(entry.get('p99_at_offered_per_s'), '/s')} offered (highest rate both kept "
                f"up with)"
            )
            cpu = entry.get("cpu_ms_per_booking")
            if cpu:
                lines.append(
                    f"  {'':<{len(scenario)}}  CPU per booking (processes + Kafka/Postgres/Redis) "
                    f"at {cpu['at_offered_per_s']:g}/s: {cpu['tessera']:g} ms vs "
                    f"{cpu['baseline']:g} ms -> {cpu['ratio']:g}x"
                )
    tgt = results.get("targets", {})
    if tgt.get("wanted"):
        wanted = tgt["wanted"]
        lines.append("")
        lines.append("issue 6 targets")
        if "sustained_per_s" in tgt:
            lines.append(
                f"  >= {wanted['sustained_per_s']} bookings/s sustained: {tgt['sustained_per_s']:g}"
                f"/s -> {'met' if tgt['sustained_met'] else 'NOT met'}"
            )
        if "p99_at_half_saturation_ms" in tgt:
            lines.append(
                f"  p99 POST->CONFIRMED <= {wanted['p99_at_half_saturation_ms']} ms at half "
                f"saturation: {tgt['p99_at_half_saturation_ms']:g} ms -> "
                f"{'met' if tgt['p99_at_half_saturation_met'] else 'NOT met'}"
            )
        if "flash_vs_baseline" in tgt:
            lines.append(
                f"  flash sale >= {wanted['flash_vs_baseline']}x baseline throughput: "
                f"{tgt['flash_vs_baseline']:g}x -> "
                f"{'met' if tgt['flash_vs_baseline_met'] else 'NOT met'}"
            )
    profiles = [
        (system, result["profile"])
        for system, scenarios in scenario_results(results)
        for result in scenarios.values()
        if result.get("profile", {}).get("processes")
    ]
    for system, prof in profiles:
        lines.append("")
        lines.append(
            f"{system} profile at {prof['offered_per_s']:g}/s offered ({prof['seconds']:g} s), "
            f"CPU seconds: "
            + ", ".join(f"{k} {v:g}" for k, v in prof["cpu_s"].items() if k != "wall_s")
        )
        for role, summary_ in prof["processes"].items():
            if "by_library_pct" not in summary_:
                lines.append(f"  {role}: {summary_.get('error', 'no samples')}")
                continue
            ops = ", ".join(f"{k} {v}%" for k, v in summary_.get("by_operation_pct", [])[:7])
            libs = ", ".join(f"{k} {v}%" for k, v in summary_["by_library_pct"][:6])
            top = ", ".join(f"{k} {v}%" for k, v in summary_["top_self_pct"][:4])
            lines.append(f"  {role:<13} {summary_['samples']:>5} samples | {ops}")
            lines.append(f"  {'':<13} libraries: {libs}")
            lines.append(f"  {'':<13} self: {top}")
    return "\n".join(lines)


def _violations(inv: dict[str, Any]) -> str:
    found = []
    for section, report in inv.items():
        if isinstance(report, dict):
            found += [f"{section}.{k}={v}" for k, v in report.items()
                      if k not in ("ok",) and v and k.endswith(("stuck", "oversold_items",
                      "sold_mismatch", "capture_mismatch", "not_seen", "not_stored",
                      "not_converged", "completed_without_one_capture",
                      "captures_without_completion"))]  # fmt: skip
        elif (
            section not in ("ok", "bookings", "outcomes")
            and report
            and not section.endswith("sample")
        ):
            found.append(f"{section}={report}")
    return "; ".join(found)[:600]
