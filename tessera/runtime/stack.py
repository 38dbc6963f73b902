"""The whole local stack, in dependency order: infrastructure, then Tessera's processes."""

from __future__ import annotations

from tessera.config import Settings

from .base import Component, Health
from .kafka import KafkaComponent
from .postgres import PostgresComponent
from .processes import tessera_processes
from .redis import RedisComponent


def infrastructure(settings: Settings) -> list[Component]:
    return [KafkaComponent(settings), PostgresComponent(settings), RedisComponent(settings)]


def all_components(settings: Settings) -> list[Component]:
    return [*infrastructure(settings), *tessera_processes(settings)]


def start_infrastructure(settings: Settings) -> None:
    from .topics import apply_topics

    for component in infrastructure(settings):
        component.start()
    apply_topics(settings.kafka_bootstrap, settings.topic_partitions, prefix=settings.topic_prefix)


def start_all(settings: Settings) -> None:
    start_infrastructure(settings)
    processes = tessera_processes(settings)
    for process in processes:
        process.start_detached()
    for process in processes:
        process.wait_healthy(timeout_s=90)


def stop_all(settings: Settings) -> list[str]:
    """Stop in reverse dependency order; returns the names that were running."""
    stopped = []
    for component in reversed(all_components(settings)):
        if component.health().state != "stopped":
            stopped.append(component.name)
        component.stop()
    return stopped


def health_of_all(settings: Settings) -> list[Health]:
    return [component.health() for component in all_components(settings)]


def endpoints_of_all(settings: Settings) -> dict[str, str]:
    endpoints: dict[str, str] = {}
    for component in all_components(settings):
        endpoints.update(component.endpoints())
    return endpoints
