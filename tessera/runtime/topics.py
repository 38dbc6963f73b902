"""`tessera topics apply`: make the broker match the topic registry in schemas/topics.py.

Missing topics are created; a config that drifted is set back; a partition count that
differs is reported (Kafka can only grow partitions, and growing them moves keys, so a
person decides). Applying twice changes nothing the second time.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from confluent_kafka import KafkaException
from confluent_kafka.admin import (
    AdminClient,
    AlterConfigOpType,
    ConfigEntry,
    ConfigResource,
    NewTopic,
    ResourceType,
)

from schemas.topics import TopicSpec, declared_topics

ChangeKind = Literal["created", "config-updated", "partition-drift"]


@dataclass(frozen=True)
class TopicChange:
    topic: str
    kind: ChangeKind
    detail: str


@dataclass
class ApplyReport:
    changes: list[TopicChange] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)

    @property
    def changed_anything(self) -> bool:
        return any(c.kind != "partition-drift" for c in self.changes)


def apply_topics(
    bootstrap: str,
    default_partitions: int,
    specs: tuple[TopicSpec, ...] | None = None,
    prefix: str = "",
) -> ApplyReport:
    """Create or reconcile every declared topic; `prefix` isolates tests' topic sets."""
    specs = specs if specs is not None else declared_topics()
    admin = AdminClient({"bootstrap.servers": bootstrap, "log_level": 0})
    existing = admin.list_topics(timeout=10).topics
    report = ApplyReport()

    missing = [s for s in specs if prefix + s.name not in existing]
    if missing:
        futures = admin.create_topics(
            [
                NewTopic(
                    prefix + s.name,
                    num_partitions=s.partitions or default_partitions,
                    replication_factor=1,
                    config=s.broker_config(),
                )
                for s in missing
            ],
            operation_timeout=30,
        )
        for name, future in futures.items():
            try:
                future.result()
            except KafkaException as exc:
                if "TOPIC_ALREADY_EXISTS" not in str(exc):
                    raise
            report.changes.append(TopicChange(name, "created", "new topic"))

    for spec in specs:
        name = prefix + spec.name
        if name not in existing:
            continue
        wanted_partitions = spec.partitions or default_partitions
        actual_partitions = len(existing[name].partitions)
        drifted = _drifted_configs(admin, name, spec.broker_config())
        if drifted:
            _set_configs(admin, name, drifted)
            detail = ", ".join(f"{k}={v}" for k, v in sorted(drifted.items()))
            report.changes.append(TopicChange(name, "config-updated", detail))
        if actual_partitions != wanted_partitions:
            report.changes.append(
                TopicChange(
                    name,
                    "partition-drift",
                    f"has {actual_partitions}, registry says {wanted_partitions}",
                )
            )
        if not drifted and actual_partitions == wanted_partitions:
            report.unchanged.append(name)
    return report


def _drifted_configs(admin: AdminClient, topic: str, wanted: dict[str, str]) -> dict[str, str]:
    resource = ConfigResource(ResourceType.TOPIC, topic)
    current = admin.describe_configs([resource])[resource].result(timeout=10)
    return {k: v for k, v in wanted.items() if k not in current or current[k].value != v}


def _set_configs(admin: AdminClient, topic: str, configs: dict[str, str]) -> None:
    resource = ConfigResource(
        ResourceType.TOPIC,
        topic,
        incremental_configs=[
            ConfigEntry(k, v, incremental_operation=AlterConfigOpType.SET)
            for k, v in configs.items()
        ],
    )
    for future in admin.incremental_alter_configs([resource]).values():
        future.result(timeout=10)
