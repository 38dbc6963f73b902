from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from confluent_kafka import Producer

from tessera.config import Settings
from tessera.runtime.topics import apply_topics
from tests.conftest import unique

from .harness import GatewaySimulator, Pipelines, Watcher, producer_for


@dataclass
class RunningSystem:
    settings: Settings
    pipelines: Pipelines
    gateway: GatewaySimulator
    watcher: Watcher
    producer: Producer


def isolated(stack: Settings, partitions: int = 3, **overrides: object) -> Settings:
    settings = dataclasses.replace(
        stack, topic_prefix=unique("t") + ".", topic_partitions=partitions, **overrides
    )
    apply_topics(settings.kafka_bootstrap, partitions, prefix=settings.topic_prefix)
    return settings


def start_system(
    stack: Settings,
    roles: tuple[str, ...] | None = None,
    partitions: int = 3,
    simulator_env: dict[str, str] | None = None,
    **overrides: object,
) -> RunningSystem:
    # Every attempt of the worker's policy times out on pm_card_timeout; the void's
    # replay of the authorization (the next call with its key) gets the answer.
    attempts = 2
    gateway = GatewaySimulator(
        {"TESSERA_SIM_TIMEOUT_HANGS": str(attempts), **(simulator_env or {})}
    )
    try:
        options: dict[str, object] = {
            "gateway": "simulated-http",
            "gateway_url": gateway.url,
            "gateway_timeout_s": 0.3,
            "gateway_attempts": attempts,
        }
        settings = isolated(stack, partitions, **(options | overrides))
        pipelines = Pipelines(settings)
        try:
            pipelines.start(*(roles or ()))
        except BaseException:
            pipelines.stop()
            raise
    except BaseException:
        gateway.stop()
        raise
    return RunningSystem(settings, pipelines, gateway, Watcher(settings), producer_for(settings))


def stop_system(system: RunningSystem) -> None:
    try:
        system.watcher.close()
        system.pipelines.stop()
    finally:
        system.gateway.stop()


@pytest.fixture(scope="module")
def system(stack: Settings) -> Iterator[RunningSystem]:
    running = start_system(stack)
    yield running
    stop_system(running)
