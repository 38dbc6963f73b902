from __future__ import annotations

from confluent_kafka.admin import (
    AdminClient,
    AlterConfigOpType,
    ConfigEntry,
    ConfigResource,
    ResourceType,
)

from schemas.topics import BOOKING_COMMANDS, INVENTORY_SNAPSHOTS, declared_topics
from tessera.config import Settings
from tessera.runtime.topics import apply_topics
from tests.conftest import unique


def test_apply_creates_every_declared_topic_then_changes_nothing(stack: Settings) -> None:
    prefix = unique("apply") + "."
    first = apply_topics(stack.kafka_bootstrap, 2, prefix=prefix)
    assert {c.topic for c in first.changes if c.kind == "created"} == {
        prefix + s.name for s in declared_topics()
    }
    second = apply_topics(stack.kafka_bootstrap, 2, prefix=prefix)
    assert not second.changed_anything and second.changes == []
    assert len(second.unchanged) == len(declared_topics())

    admin = AdminClient({"bootstrap.servers": stack.kafka_bootstrap})
    metadata = admin.list_topics(timeout=10).topics
    assert len(metadata[prefix + BOOKING_COMMANDS.name].partitions) == 2
    resource = ConfigResource(ResourceType.TOPIC, prefix + INVENTORY_SNAPSHOTS.name)
    config = admin.describe_configs([resource])[resource].result()
    assert config["cleanup.policy"].value == "compact"
    assert config["retention.ms"].value == str(7 * 24 * 3600 * 1000)


def test_apply_repairs_config_drift_and_reports_partition_drift(stack: Settings) -> None:
    prefix = unique("drift") + "."
    specs = (BOOKING_COMMANDS,)
    apply_topics(stack.kafka_bootstrap, 2, specs=specs, prefix=prefix)
    admin = AdminClient({"bootstrap.servers": stack.kafka_bootstrap})
    topic = prefix + BOOKING_COMMANDS.name
    resource = ConfigResource(
        ResourceType.TOPIC,
        topic,
        incremental_configs=[
            ConfigEntry("retention.ms", "1000", incremental_operation=AlterConfigOpType.SET)
        ],
    )
    admin.incremental_alter_configs([resource])[resource].result()

    report = apply_topics(stack.kafka_bootstrap, 3, specs=specs, prefix=prefix)
    kinds = {c.kind for c in report.changes}
    assert kinds == {"config-updated", "partition-drift"}
    again = apply_topics(stack.kafka_bootstrap, 2, specs=specs, prefix=prefix)
    assert again.changes == []
