"""The lag exporter on the real broker: a stopped group's lag grows while records arrive,
and drops to zero once it resumes and commits."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable

from confluent_kafka import Consumer, Producer

from schemas.topics import BOOKING_EVENTS
from tessera.config import Settings
from tessera.ops.config import OpsConfig
from tessera.ops.lag import LagExporter

from .support import commit_group


def produce(settings: Settings, n: int) -> None:
    producer = Producer({"bootstrap.servers": settings.kafka_bootstrap, "log_level": 3})
    for i in range(n):
        producer.produce(settings.topic(BOOKING_EVENTS.name), key=f"bk-{i}".encode(), value=b"{}")
    assert producer.flush(30) == 0


def group_lag(exporter: LagExporter, group: str) -> int:
    snapshot = exporter.poll()
    return sum(r.lag for r in snapshot.rows if r.group == group)


def test_stopped_group_lag_grows_then_drops_when_it_resumes(
    isolated_settings: Callable[..., Settings],
) -> None:
    settings = isolated_settings(partitions=2)
    group = settings.topic("tessera-sink-lagtest")
    foreign = dataclasses.replace(settings, topic_prefix="other.").topic("tessera-x")
    commit_group(settings, group, BOOKING_EVENTS.name, {0: 0, 1: 0})  # consumed nothing yet
    exporter = LagExporter(settings, OpsConfig(lag_interval_s=0.5))
    assert foreign not in exporter.groups()  # only this deployment's groups

    assert group_lag(exporter, group) == 0
    produce(settings, 10)
    assert group_lag(exporter, group) == 10
    produce(settings, 15)
    assert group_lag(exporter, group) == 25  # stopped while records arrive: it grows
    rows = [r for r in exporter.latest.rows if r.group == group]
    assert {(r.topic, r.partition) for r in rows} == {
        (settings.topic(BOOKING_EVENTS.name), 0),
        (settings.topic(BOOKING_EVENTS.name), 1),
    }
    assert all(r.lag == r.high - r.committed for r in rows)

    consumer = Consumer(
        {
            "bootstrap.servers": settings.kafka_bootstrap,
            "group.id": group,
            "enable.auto.commit": False,
            "auto.offset.reset": "earliest",
            "log_level": 3,
        }
    )
    consumer.subscribe([settings.topic(BOOKING_EVENTS.name)])
    seen = 0
    for _ in range(100):
        seen += len(consumer.consume(100, 0.3))
        if seen >= 25:
            break
    consumer.commit(asynchronous=False)
    consumer.close()
    assert seen == 25
    assert group_lag(exporter, group) == 0  # resumed: caught up

    history = exporter.history.to_json(0, settings.topic_prefix)
    totals = [sum(sum(p.values()) for p in snap["lags"].values()) for snap in history]
    assert totals == [0, 10, 25, 0]
    short = group.removeprefix(settings.topic_prefix)
    assert history[2]["lags"][short] == {
        f"{BOOKING_EVENTS.name}/0": rows[0].lag,
        f"{BOOKING_EVENTS.name}/1": rows[1].lag,
    }
