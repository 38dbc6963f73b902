"""The ops process: dashboard, JSON API and /metrics on the ops port (`Role("ops", ...,
metrics_offset=0)`), plus the poller that feeds the lag and business snapshots.

`python -m tessera.ops` runs it too (with JSON logs), before the role is wired into the CLI.
"""

from __future__ import annotations

import logging
import os
import signal
import threading

from pipelines.runtime.metrics import PROCESS
from tessera.config import Settings

from .api import OpsApi
from .config import OpsConfig
from .server import make_server
from .state import OpsState

logger = logging.getLogger(__name__)
ROLE = "ops"


def main(settings: Settings, metrics_port: int | None = None) -> None:
    """Serve until SIGTERM/SIGINT. /metrics is on the same port as the page."""
    port = metrics_port if metrics_port is not None else settings.ops_port
    host = os.environ.get("TESSERA_OPS_HOST", "127.0.0.1")
    PROCESS.info({"pid": str(os.getpid()), "role": ROLE})
    state = OpsState(settings, OpsConfig.from_env())
    server = make_server(OpsApi(state), host, port)
    stop = threading.Event()

    def shutdown(_signo: int, _frame: object) -> None:
        stop.set()
        threading.Thread(target=server.shutdown, daemon=True).start()

    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, shutdown)
    poller = threading.Thread(target=state.poll_forever, args=(stop,), name="ops-poller")
    poller.start()
    logger.info("ops page serving", extra={"url": f"http://{host}:{port}/"})
    try:
        server.serve_forever(poll_interval=0.5)
    finally:
        stop.set()
        poller.join(10)
        server.server_close()
        state.close()
