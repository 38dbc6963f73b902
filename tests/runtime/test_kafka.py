"""The test session talks to a real Apache Kafka 4.x broker in KRaft mode."""

from __future__ import annotations

from confluent_kafka import Consumer, Producer
from confluent_kafka.admin import AdminClient

from tessera.config import Settings
from tessera.runtime.kafka_probe import FETCH_KEY, api_versions, looks_like_kafka_4

TXN_API_KEYS = {22, 24, 25, 26}  # InitProducerId, AddPartitionsToTxn, AddOffsetsToTxn, EndTxn


def test_broker_speaks_kafka_4_protocol(stack: Settings) -> None:
    ranges = api_versions("127.0.0.1", stack.kafka_port)
    assert looks_like_kafka_4(ranges), f"Fetch versions {ranges[FETCH_KEY]}"
    assert TXN_API_KEYS <= ranges.keys(), "transactions must be available"


def test_cluster_metadata_is_single_node_kraft(stack: Settings) -> None:
    admin = AdminClient({"bootstrap.servers": stack.kafka_bootstrap})
    cluster = admin.describe_cluster(request_timeout=10).result()
    assert [node.id for node in cluster.nodes] == [1]
    assert cluster.controller is not None and cluster.controller.id == 1
    assert cluster.cluster_id


def test_transactional_produce_is_visible_to_read_committed(isolated_settings) -> None:
    settings = isolated_settings(partitions=1)
    topic = settings.topic("booking-commands")
    producer = Producer(
        {"bootstrap.servers": settings.kafka_bootstrap, "transactional.id": f"{topic}-txn"}
    )
    producer.init_transactions(10)
    producer.begin_transaction()
    producer.produce(topic, key=b"b1", value=b"committed")
    producer.commit_transaction(10)
    producer.begin_transaction()
    producer.produce(topic, key=b"b2", value=b"aborted")
    # The abort waits for the record's ack: librdkafka can send EndTxn before the coordinator
    # has registered the partition, which the broker refuses with a fatal INVALID_TXN_STATE
    # (librdkafka#4849). The ack also puts the aborted record in the log for the reader to skip.
    assert producer.flush(10) == 0
    producer.abort_transaction(10)
    # A committed record after the aborted one proves the reader went past it, not stopped short.
    producer.begin_transaction()
    producer.produce(topic, key=b"b3", value=b"after")
    producer.commit_transaction(10)

    consumer = Consumer(
        {
            "bootstrap.servers": settings.kafka_bootstrap,
            "group.id": f"{topic}-reader",
            "auto.offset.reset": "earliest",
            "isolation.level": "read_committed",
        }
    )
    consumer.subscribe([topic])
    seen = []
    for _ in range(40):
        message = consumer.poll(0.5)
        if message is not None and message.error() is None:
            seen.append(message.value())
        if len(seen) >= 2:
            break
    consumer.close()
    assert seen == [b"committed", b"after"]
