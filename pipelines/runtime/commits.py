"""When a processor commits its checkpoint (one Kafka transaction): as soon as its input
is drained, or when the commit interval runs out, whichever comes first.

quixstreams commits on a fixed interval: a record arriving just after a commit waits up
to the whole interval, on every exactly-once hop of the booking path. Here, per loop turn:

1. A forced commit (stop, revoke) goes through unchanged.
2. The interval expired: commit (under a steady backlog every commit is this one, so
   transactions stay as large, and as few, as the interval makes them).
3. The last poll found nothing (the input is drained) and the checkpoint is at least
   `min_interval_s` old: commit now. A record arriving in a quiet moment is visible
   downstream one commit later instead of up to an interval later, and the floor keeps a
   trickle of records from turning into a transaction each.

Every commit's duration is observed in a histogram, labelled by what triggered it.
"""

from __future__ import annotations

import time
from typing import Any

from quixstreams import Application

from . import metrics


def install_commit_policy(app: Application, role: str, min_interval_s: float) -> None:
    context = app._processing_context  # noqa: SLF001
    tracker = app._run_tracker  # noqa: SLF001
    commit_checkpoint = context.commit_checkpoint

    def commit(force: bool = False, revoking: bool = False) -> None:
        checkpoint: Any = context.checkpoint
        if force:  # 1.
            trigger = "forced"
        elif checkpoint.empty():  # nothing to commit: quixstreams renews it when expired
            return commit_checkpoint()
        elif checkpoint.expired():  # 2.
            trigger = "interval"
        elif (
            not tracker._message_consumed  # noqa: SLF001 - the last poll came back empty
            and time.monotonic() - checkpoint._created_at >= min_interval_s  # noqa: SLF001
        ):  # 3.
            trigger = "drained"
        else:
            return None
        started = time.perf_counter()
        commit_checkpoint(force=True, revoking=revoking)
        metrics.COMMIT_SECONDS.labels(role, trigger).observe(time.perf_counter() - started)
        return None

    context.commit_checkpoint = commit  # type: ignore[method-assign]
