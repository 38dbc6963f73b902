"""`python -m load.bench serve`: Tessera (pipelines, sinks, ingress) for locust, until Ctrl-C.

Uses isolated topics and the stack's own development key ($TESSERA_HOME/keys), so the
locustfile's tokens (`mint_token(load_settings(), ...)`, as `tessera token`) are accepted.
The ingress keeps its real limits (100 requests/min per user, 5 open holds) and trusts
X-Forwarded-For, so each locust user can present its own client address.
"""

from __future__ import annotations

import os
import signal
import time

from load.bench_system import ensure_infra, start_tessera, stop_tessera
from tessera.config import load_settings


def serve(seconds: float = 0) -> int:
    stack = load_settings()
    ensure_infra(stack)
    os.environ.setdefault("TESSERA_JWKS", str(stack.home / "keys" / "jwks.json"))
    os.environ.setdefault("TESSERA_INGRESS_TRUST_FORWARDED", "1")
    os.environ.setdefault("TESSERA_SIM_LATENCY_MS", "20")
    os.environ.setdefault("TESSERA_SIM_LATENCY_JITTER_MS", "10")
    tessera = start_tessera(load_settings(), http=True, partitions=12, overrides={})
    stopping = False

    def stop(*_: object) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    print(f"Tessera ingress: {tessera.ingress_url}   (topics {tessera.settings.topic_prefix}*)")
    print(
        "  uv run locust -f load/locustfile.py --headless -u 100 -r 20 -t 60s "
        f"--host {tessera.ingress_url} --csv load/results/locust"
    )
    print("Ctrl-C stops it.", flush=True)
    deadline = time.monotonic() + seconds if seconds else None
    try:
        while not stopping and (deadline is None or time.monotonic() < deadline):
            time.sleep(0.2)
    finally:
        stop_tessera(tessera)
    return 0
