"""The payment worker's offset commit: what Kafka took is recorded, and nothing is counted
as an error (a metric misuse after the commit once made every commit look failed)."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

from confluent_kafka import TopicPartition
from prometheus_client import REGISTRY

from pipelines.payments.gateways.simulated import SimulatedGateway
from pipelines.payments.worker import ROLE, PaymentWorker
from tessera.config import Settings


class RecordingConsumer:
    def __init__(self) -> None:
        self.commits: list[list[TopicPartition]] = []

    def commit(self, offsets: list[TopicPartition], asynchronous: bool) -> None:
        assert asynchronous is False
        self.commits.append(offsets)

    def close(self) -> None:
        return None


def errors(kind: str) -> float:
    value = REGISTRY.get_sample_value(
        "tessera_pipeline_errors_total", {"pipeline": ROLE, "kind": kind}
    )
    return value or 0.0


def test_a_commit_records_the_committed_positions(tmp_path: Path) -> None:
    settings = dataclasses.replace(Settings(), home=tmp_path, topic_prefix="t-commit.")
    worker = PaymentWorker(settings, SimulatedGateway())
    real_consumer: Any = worker.consumer
    worker.consumer = RecordingConsumer()  # type: ignore[assignment]
    try:
        worker.offsets.started("payment-commands", 0, 41)
        worker.offsets.finished("payment-commands", 0, 41)
        before = errors("commit")
        worker._commit()
        (committed,) = worker.consumer.commits  # type: ignore[attr-defined]
        assert [(tp.topic, tp.partition, tp.offset) for tp in committed] == [
            ("payment-commands", 0, 42)
        ]
        assert errors("commit") == before
        assert worker.offsets.to_commit() == {}  # recorded: not committed again
    finally:
        real_consumer.close()
        worker.ledger.close()
