"""The consumer-lag exporter: committed offsets vs high watermarks, read from the broker.

Every `lag_interval_s`, for every consumer group of this deployment (named
`<topic prefix>tessera-...`): the group's committed offset per partition of each topic it
has committed on, and each partition's high watermark (one batched ListOffsets). Lag is
high watermark - committed: a read_committed consumer may stay one transaction marker
behind, which the operator reads as "caught up". A partition the group never committed
counts from the low watermark. The same poll measures dead-letter depth (records in each
`.dlq` topic). Snapshots go to a ring buffer for the charts and to /metrics.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field

from confluent_kafka import ConsumerGroupTopicPartitions, KafkaException, TopicPartition
from confluent_kafka.admin import AdminClient, OffsetSpec

from schemas.topics import dead_letter_topics
from tessera.config import Settings

from .config import OpsConfig
from .exceptions import BackendUnavailable
from .history import LagHistory
from .metrics import ERRORS

logger = logging.getLogger(__name__)
Position = tuple[str, str, int]  # group, topic, partition (broker names)


@dataclass(frozen=True)
class LagRow:
    group: str
    topic: str
    partition: int
    committed: int | None
    high: int
    lag: int


@dataclass
class LagSnapshot:
    at: float
    rows: list[LagRow] = field(default_factory=list)
    dead_letters: dict[str, int] = field(default_factory=dict)  # .dlq topic -> records


class LagExporter:
    def __init__(self, settings: Settings, config: OpsConfig) -> None:
        self.settings = settings
        self.timeout = config.kafka_timeout_s
        self.group_prefix = settings.topic("tessera-")
        self.dlq_topics = [settings.topic(spec.name) for spec in dead_letter_topics()]
        self.admin = AdminClient({"bootstrap.servers": settings.kafka_bootstrap, "log_level": 3})
        self.history = LagHistory(config.lag_window_s, config.lag_interval_s)
        self.latest: LagSnapshot | None = None

    def groups(self) -> list[str]:
        listed = self.admin.list_consumer_groups(request_timeout=self.timeout).result()
        return sorted(g.group_id for g in listed.valid if g.group_id.startswith(self.group_prefix))

    def committed(self, group: str) -> dict[tuple[str, int], int]:
        request = [ConsumerGroupTopicPartitions(group)]
        futures = self.admin.list_consumer_group_offsets(request, request_timeout=self.timeout)
        result = futures[group].result()
        return {(tp.topic, tp.partition): tp.offset for tp in result.topic_partitions or ()}

    def partitions(self, topics: set[str]) -> list[TopicPartition]:
        metadata = self.admin.list_topics(timeout=self.timeout).topics
        return [
            TopicPartition(topic, p)
            for topic in sorted(topics)
            if topic in metadata
            for p in metadata[topic].partitions
        ]

    def watermarks(self, partitions: list[TopicPartition], spec: OffsetSpec) -> dict:
        """Offsets per partition; a partition whose leader is moving is retried once and then
        left out of this snapshot (counted), not allowed to fail the whole poll."""
        found: dict[tuple[str, int], int] = {}
        for attempt in range(2):
            if not partitions:
                break
            futures = self.admin.list_offsets(
                {tp: spec for tp in partitions}, request_timeout=self.timeout
            )
            failed = []
            for tp, future in futures.items():
                try:
                    found[(tp.topic, tp.partition)] = future.result().offset
                except KafkaException:
                    failed.append(tp)
            partitions = failed
            if failed and attempt == 0:
                time.sleep(0.3)
        if partitions:
            ERRORS.labels("watermark").inc()
            logger.warning("no watermark", extra={"partitions": [str(tp) for tp in partitions]})
        return found

    def poll(self) -> LagSnapshot:
        """One snapshot; raises BackendUnavailable if the broker does not answer."""
        try:
            commits = {group: self.committed(group) for group in self.groups()}
            topics = {t for offsets in commits.values() for t, _ in offsets} | set(self.dlq_topics)
            partitions = self.partitions(topics)
            high = self.watermarks(partitions, OffsetSpec.latest())
            low = self.watermarks(partitions, OffsetSpec.earliest())
        except Exception as exc:  # KafkaException, timeouts: the broker is the problem
            raise BackendUnavailable(f"Kafka: {exc}") from exc
        snapshot = LagSnapshot(time.time())
        for group, offsets in commits.items():
            for topic in sorted({t for t, _ in offsets}):
                for tp in (tp for tp in partitions if tp.topic == topic):
                    key = (topic, tp.partition)
                    if key not in high:
                        continue  # no watermark this round: no row rather than a wrong one
                    done = offsets.get(key)
                    done = done if done is not None and done >= 0 else None
                    end = high.get(key, 0)
                    lag = max(0, end - (done if done is not None else low.get(key, 0)))
                    snapshot.rows.append(LagRow(group, topic, tp.partition, done, end, lag))
        for topic in self.dlq_topics:
            keys = [k for k in high if k[0] == topic]
            snapshot.dead_letters[topic] = sum(high[k] - low.get(k, 0) for k in keys)
        self.latest = snapshot
        self.history.add(
            snapshot.at, {(r.group, r.topic, r.partition): r.lag for r in snapshot.rows}
        )
        return snapshot

    def close(self) -> None:
        self.admin = None  # type: ignore[assignment]
