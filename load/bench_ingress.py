"""POST /api/v1/bookings throughput, as a ratio to a granian hello-world, in one run.

Both servers run under granian with the same settings (ASGI, uvloop, same worker count)
and stay up side by side; the same wrk load (connections, threads, duration; one POST
with a JSON body, a Bearer token and a unique Idempotency-Key per request) alternates
between them for --rounds rounds, so a noisy neighbour on a shared machine hits both
alike; five by default, so that the median outlasts a round hit by a background event.
Each ingress round starts from the same Redis keyspace, and Redis's automatic AOF
rewrites wait until the end (load/bench_redis.py says why). The ingress runs on the real stack:
JWT check, one admission script (rate limits, idempotency claim, holds cap), Kafka produce
awaited until acks=all, then the accepted record and the stored response in one script.
The medians are reported.

Both servers get the same CPUs (--server-cpus, default the first one; wrk gets the
others). Unpinned, the hello-world's speed depends on where the scheduler puts its Rust
I/O thread: 31k req/s when it shares a core with the Python thread, 45k+ when it has one
to itself (wrk then competes with both), so the ratio jumped between rounds. While the
servers run, the stack's Redis and Kafka (when this checkout started them) move to wrk's
CPUs too, as if on their own hosts: the server CPU then serves the server under test
alone, for both. Their affinity is given back afterwards.

    uv run python -m load.bench_ingress [--rounds 5] [--duration 8] [--connections 64]

Needs wrk (`apt-get install -y wrk`) and the stack (`uv run tessera up --infra-only`).
The ingress uses a private topic prefix; its topics and Redis keys are deleted afterwards.
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import json
import os
import platform
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
import uuid
from collections.abc import Iterator
from pathlib import Path

import msgspec

from ingress.auth.token_cli import mint_token
from ingress.config import switch_interval_ms
from load.bench_redis import rewrites_deferred
from load.system_harness import delete_prefixed_keys, delete_prefixed_topics
from tessera.config import PROJECT_ROOT, Settings, load_settings
from tessera.runtime.base import read_pid
from tessera.runtime.topics import apply_topics

BODY = b'{"itemId":"bench-item","quantity":1,"paymentMethod":"pm_card_visa"}'
_HELLO = msgspec.json.encode({"bookingId": str(uuid.UUID(int=0)), "status": "PENDING"})
UNLIMITED = "1000000000"


async def hello_app(scope, receive, send):  # type: ignore[no-untyped-def]
    """The baseline: drain the body, answer a msgspec-encoded JSON 202. It starts with the
    ingress's GIL switch interval, so both run under the same interpreter settings."""
    if scope["type"] == "lifespan":
        while (await receive())["type"] == "lifespan.startup":
            sys.setswitchinterval(switch_interval_ms() / 1000)
            await send({"type": "lifespan.startup.complete"})
        await send({"type": "lifespan.shutdown.complete"})
        return
    if scope["type"] != "http":
        return
    more = True
    while more:
        message = await receive()
        more = message.get("more_body", False)
    headers = [(b"content-type", b"application/json")]
    await send({"type": "http.response.start", "status": 202, "headers": headers})
    await send({"type": "http.response.body", "body": _HELLO})


# wrk script: round-robin tokens; Idempotency-Key = run, phase (script argument), thread, n.
LUA = """
local tokens = {%(tokens)s}
local body = [[%(body)s]]
local counter, prefix = 0, ""
local n = 0
function setup(thread) n = n + 1; thread:set("tid", n) end
function init(args) prefix = "%(run)s-" .. args[1] .. "-" .. tid .. "-" end
function request()
  counter = counter + 1
  local headers = {}
  headers["Content-Type"] = "application/json"
  headers["Authorization"] = "Bearer " .. tokens[(counter %% #tokens) + 1]
  headers["Idempotency-Key"] = prefix .. counter
  return wrk.format("POST", "%(path)s", headers, body)
end
"""


@dataclasses.dataclass
class Result:
    rps: float
    p50_ms: float
    p99_ms: float
    non_2xx: int
    requests: int


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextlib.contextmanager
def server(argv: list[str], env: dict[str, str], ready_url: str, log: Path) -> Iterator[None]:
    """Run argv (its workers and threads inherit argv's CPU affinity) until the block ends."""
    with open(log, "wb") as out:
        proc = subprocess.Popen(
            argv,
            cwd=PROJECT_ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        deadline = time.monotonic() + 30
        while True:
            if proc.poll() is not None:
                raise SystemExit(f"{argv} exited:\n{log.read_text()}")
            with contextlib.suppress(OSError):
                with urllib.request.urlopen(ready_url, timeout=2):  # noqa: S310 - loopback
                    break
            if time.monotonic() > deadline:
                raise SystemExit(f"{argv} not ready:\n{log.read_text()}")
            time.sleep(0.2)
        yield
    finally:
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()


def run_wrk(url: str, script: Path, phase: str, duration: int, args: argparse.Namespace) -> Result:
    argv = [
        *pinned(args.load_cpus), "wrk", f"-t{args.threads}", f"-c{args.connections}",
        f"-d{duration}s", "--latency", "-s", str(script), url, "--", phase,
    ]  # fmt: skip
    out = subprocess.run(argv, check=True, capture_output=True, text=True).stdout
    rps = float(_find(r"Requests/sec:\s+([\d.]+)", out))
    non_2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    return Result(
        rps,
        _percentile(out, "50"),
        _percentile(out, "99"),
        int(non_2xx.group(1)) if non_2xx else 0,
        int(_find(r"(\d+) requests in", out)),
    )


def pinned(cpus: str) -> list[str]:
    """The prefix that runs a command on `cpus` (a taskset list; "" = anywhere)."""
    return ["taskset", "-c", cpus] if cpus else []


def cpu_split(server_cpus: str | None) -> tuple[str, str]:
    """(server CPUs, load-generator CPUs): the first CPU for the servers, the rest for wrk;
    nothing pinned on a single-CPU machine, or with --server-cpus ''."""
    available = sorted(os.sched_getaffinity(0))
    if server_cpus is None:
        server_cpus = str(available[0]) if len(available) > 1 else ""
    if not server_cpus:
        return "", ""
    taken = _cpu_set(server_cpus)
    rest = [c for c in available if c not in taken]
    if not rest:
        raise SystemExit(f"--server-cpus {server_cpus} leaves no CPU for the load generator")
    return server_cpus, ",".join(map(str, rest))


@contextlib.contextmanager
def backends_on(settings: Settings, cpus: str) -> Iterator[list[str]]:
    """Every thread of the stack's Kafka and Redis on `cpus` for the block, then back."""
    moved: dict[int, set[int]] = {}
    names = []
    try:
        for name in ("kafka", "redis") if cpus else ():
            pid = read_pid(settings.run_dir / f"{name}.pid")
            if pid is None:
                continue  # not started by this checkout: left alone
            for tid in _threads(pid):
                with contextlib.suppress(ProcessLookupError):  # a thread that just ended
                    moved[tid] = os.sched_getaffinity(tid)
                    os.sched_setaffinity(tid, _cpu_set(cpus))
            names.append(name)
        yield names
    finally:
        for tid, previous in moved.items():
            with contextlib.suppress(ProcessLookupError):
                os.sched_setaffinity(tid, previous)


def _threads(pid: int) -> list[int]:
    try:
        return [int(tid) for tid in os.listdir(f"/proc/{pid}/task")]
    except FileNotFoundError:
        return []


def _cpu_set(spec: str) -> set[int]:
    cpus: set[int] = set()
    for part in spec.split(","):
        first, _, last = part.partition("-")
        cpus.update(range(int(first), int(last or first) + 1))
    return cpus


def _find(pattern: str, text: str) -> str:
    match = re.search(pattern, text, re.M)
    if match is None:
        raise SystemExit(f"unexpected wrk output:\n{text}")
    return match.group(1)


def _percentile(out: str, which: str) -> float:
    match = re.search(rf"^\s+{which}%\s+([\d.]+)(us|ms|s)\s*$", out, re.M)
    if match is None:
        raise SystemExit(f"no {which}% latency in wrk output:\n{out}")
    return float(match.group(1)) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[match.group(2)]


def _statuses(url: str) -> dict[str, int]:
    """createBooking answers by status, from the ingress's own metrics (warmups included)."""
    with urllib.request.urlopen(url + "/metrics", timeout=5) as response:  # noqa: S310
        text = response.read().decode()
    found = re.findall(
        r'requests_total\{method="POST",route="createBooking",status="(\d+)"\} ([\d.e+]+)', text
    )
    return {status: int(float(count)) for status, count in found}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--duration", type=int, default=8, help="seconds per measurement")
    parser.add_argument("--warmup", type=int, default=2)
    parser.add_argument("--connections", type=int, default=64)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--users", type=int, default=500)
    parser.add_argument(
        "--server-cpus", default=None,
        help="CPUs (taskset list) both servers run on; wrk gets the others. Default: the "
        "first CPU; '' pins nothing",
    )  # fmt: skip
    args = parser.parse_args(argv)
    if shutil.which("wrk") is None:
        raise SystemExit("wrk not found: apt-get install -y wrk")
    args.server_cpus, args.load_cpus = cpu_split(args.server_cpus)
    if args.server_cpus and shutil.which("taskset") is None:
        raise SystemExit("taskset not found (util-linux); or run with --server-cpus ''")
    run = uuid.uuid4().hex[:8]
    settings = dataclasses.replace(load_settings(), topic_prefix=f"bench-{run}.")
    apply_topics(settings.kafka_bootstrap, settings.topic_partitions, prefix=settings.topic_prefix)
    tokens = ",".join(
        f'"{mint_token(settings, f"bench-user-{i}", "USER", 3600)}"' for i in range(args.users)
    )
    workdir = Path(tempfile.mkdtemp(prefix="bench-ingress-"))
    hello_port, ingress_port = free_port(), free_port()
    env = {
        **os.environ,
        "TESSERA_TOPIC_PREFIX": settings.topic_prefix,
        "TESSERA_INGRESS_PORT": str(ingress_port),
        "TESSERA_INGRESS_WORKERS": str(args.workers),
        "TESSERA_INGRESS_USER_RATE": UNLIMITED,  # the limits are still checked, never hit
        "TESSERA_INGRESS_IP_RATE": UNLIMITED,
        "TESSERA_INGRESS_HOLDS_CAP": UNLIMITED,  # no pipeline runs: every booking stays PENDING
    }
    hello_argv = [
        *pinned(args.server_cpus), sys.executable, "-m", "granian", "--interface", "asgi",
        "--loop", "uvloop", "--workers", str(args.workers), "--port", str(hello_port),
        "--log-level", "warning", "load.bench_ingress:hello_app",
    ]  # fmt: skip
    targets = {
        "hello": (f"http://127.0.0.1:{hello_port}", "/"),
        "ingress": (f"http://127.0.0.1:{ingress_port}", "/api/v1/bookings"),
    }
    results: dict[str, list[Result]] = {"hello": [], "ingress": []}
    try:
        with rewrites_deferred(settings.redis_url):
            try:
                with (
                    backends_on(settings, args.load_cpus) as moved,
                    server(hello_argv, env, targets["hello"][0], workdir / "hello.log"),
                    server(
                        [*pinned(args.server_cpus), sys.executable, "-m", "ingress.server"],
                        env,
                        targets["ingress"][0] + "/readyz",
                        workdir / "ingress.log",
                    ),
                ):
                    scripts = {}
                    for name, (_, path) in targets.items():
                        scripts[name] = workdir / f"{name}.lua"
                        values = {"tokens": tokens, "body": BODY.decode(), "run": run, "path": path}
                        scripts[name].write_text(LUA % values)
                    for name, (url, _) in targets.items():
                        run_wrk(url, scripts[name], "warmup", args.warmup, args)
                    for i in range(args.rounds):
                        for name, (url, _) in targets.items():
                            if name == "ingress":
                                delete_prefixed_keys(settings.redis_url, settings.topic_prefix)
                            result = run_wrk(url, scripts[name], f"r{i}", args.duration, args)
                            results[name].append(result)
                    statuses = _statuses(targets["ingress"][0])
            finally:
                _cleanup(settings)  # before the deferred AOF rewrite: it then has less to write
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    return report(args, results, statuses, moved)


def report(
    args: argparse.Namespace,
    results: dict[str, list[Result]],
    statuses: dict[str, int],
    moved: list[str],
) -> int:
    print(f"{'round':6} {'server':8} {'req/s':>9} {'p50 ms':>8} {'p99 ms':>8} {'non-2xx':>8}")
    for i in range(args.rounds):
        for name in ("hello", "ingress"):
            r = results[name][i]
            print(f"{i:<6} {name:8} {r.rps:9.0f} {r.p50_ms:8.2f} {r.p99_ms:8.2f} {r.non_2xx:8d}")
    med = {n: statistics.median(r.rps for r in rs) for n, rs in results.items()}
    ingress = results["ingress"]
    p50 = statistics.median(r.p50_ms for r in ingress)
    p99 = statistics.median(r.p99_ms for r in ingress)
    ratios = [i.rps / h.rps for h, i in zip(results["hello"], ingress, strict=True)]
    print(f"ingress createBooking answers by status (warmups included): {statuses}")
    print(
        f"POST /api/v1/bookings: {med['ingress']:.0f} req/s (median of {args.rounds}), "
        f"p50 {p50:.2f} ms, p99 {p99:.2f} ms; hello-world {med['hello']:.0f} req/s; "
        f"ratio {med['ingress'] / med['hello']:.2f} (per round: "
        f"{', '.join(f'{r:.2f}' for r in ratios)}; goal >= 0.3; {args.workers} worker(s), "
        f"{args.connections} connections; servers on CPUs {args.server_cpus or 'any'}, "
        f"wrk{''.join(f', {m}' for m in moved)} on {args.load_cpus or 'any'}; "
        f"CPython {platform.python_version()} from {sys.base_prefix})"
    )
    summary = {"ratio": round(med["ingress"] / med["hello"], 3), "median_rps": med}
    print(json.dumps({**summary, "rounds": {n: [dataclasses.asdict(r) for r in rs]
                                            for n, rs in results.items()}}))  # fmt: skip
    return 0 if all(r.non_2xx == 0 for r in ingress) else 1


def _cleanup(settings: Settings) -> None:
    """Drop the run's topics and Redis keys (accepted records, idempotency, rate buckets)."""
    delete_prefixed_keys(settings.redis_url, settings.topic_prefix)
    delete_prefixed_topics(settings.kafka_bootstrap, settings.topic_prefix)


if __name__ == "__main__":
    sys.exit(main())
