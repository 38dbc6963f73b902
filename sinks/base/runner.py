"""Run one or more sink loops in threads until SIGTERM/SIGINT or until one of them fails.

A loop that raises stops the others (they finish their batch and commit nothing unwritten)
and the error propagates, so the supervisor restarts the process: nothing is swallowed.
"""

from __future__ import annotations

import logging
import signal
import threading
from collections.abc import Callable, Sequence

from . import metrics

logger = logging.getLogger(__name__)
Loop = tuple[str, Callable[[threading.Event], None]]


def stop_on_signals(stop: threading.Event) -> None:
    if threading.current_thread() is threading.main_thread():
        for sig in (signal.SIGTERM, signal.SIGINT):
            signal.signal(sig, lambda _signo, _frame: stop.set())


def run_loops(loops: Sequence[Loop], stop: threading.Event) -> None:
    failures: list[BaseException] = []

    def guarded(name: str, run: Callable[[threading.Event], None]) -> None:
        try:
            run(stop)
        except BaseException as exc:
            metrics.ERRORS.labels(name, "crashed").inc()
            logger.exception("sink loop crashed; stopping the process", extra={"sink": name})
            failures.append(exc)
            stop.set()

    threads = [
        threading.Thread(target=guarded, args=(name, run), name=f"sink-{name}", daemon=True)
        for name, run in loops
    ]
    for thread in threads:
        thread.start()
    while any(t.is_alive() for t in threads):
        for thread in threads:
            thread.join(0.2)
    if failures:
        raise failures[0]
