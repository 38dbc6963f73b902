"""Run the real Tessera pipelines as separate processes and watch what comes out of Kafka.

Used by the integration tests and by the benchmarks alike.
"""

from __future__ import annotations

import dataclasses
import logging
import os
import random
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import redis
from confluent_kafka import Consumer, KafkaException, Producer
from confluent_kafka.admin import AdminClient

from pipelines.runtime.outputs import route
from schemas import booking_events, inventory_events, payment_events
from schemas.booking_commands import CreateBooking
from schemas.command_ids import booking_id_for
from schemas.topics import BOOKING_EVENTS, INVENTORY_SNAPSHOTS, PAYMENT_EVENTS
from tessera.config import Settings
from tessera.kafka_clients import producer_config
from tessera.runtime.processes import INSTANCE_PORT_STRIDE, ROLES, ProcessComponent
from tessera.runtime.topics import apply_topics

logger = logging.getLogger(__name__)

PIPELINE_ROLES = ("timers", "inventory", "saga", "payment")


def free_port_block(size: int) -> int:
    """A base port with `size` consecutive free ports after it, below the kernel's
    ephemeral range (32768+) so an outgoing connection cannot take one meanwhile."""
    rng = random.Random()
    for _ in range(200):
        base = rng.randrange(20000, 32000 - size)
        if all(_free(base + i) for i in range(size)):
            return base
    raise RuntimeError("no block of free ports")


def _free(port: int) -> bool:
    with socket.socket() as sock:
        return sock.connect_ex(("127.0.0.1", port)) != 0


def wait_until(predicate: Callable[[], bool], timeout_s: float, what: str) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.1)
    raise AssertionError(f"timed out after {timeout_s}s waiting for {what}")


class GatewaySimulator:
    """The HTTP payment-gateway simulator as its own process: it outlives worker crashes."""

    def __init__(self, env: dict[str, str] | None = None) -> None:
        self.port = free_port_block(1)
        self.url = f"http://127.0.0.1:{self.port}"
        self.proc = subprocess.Popen(  # noqa: S603
            [
                sys.executable,
                "-m",
                "pipelines.payments.gateways.simulated_http",
                "--port",
                str(self.port),
                "--log-level",
                "warning",
            ],
            env={**os.environ, **(env or {})},
        )
        wait_until(self._healthy, 30, "gateway simulator")

    def _healthy(self) -> bool:
        try:
            return httpx.get(f"{self.url}/healthz", timeout=1).status_code == 200
        except httpx.HTTPError:
            return False

    def audit(self) -> dict[str, Any]:
        return httpx.get(f"{self.url}/_audit", timeout=10).json()

    def stop(self) -> None:
        self.proc.terminate()
        self.proc.wait(10)


class Pipelines:
    """The Tessera roles for one test's isolated topics, each a real OS process."""

    def __init__(self, settings: Settings) -> None:
        home = Path(tempfile.mkdtemp(prefix="tessera-pipelines-"))
        self.settings = dataclasses.replace(
            settings, home=home, ops_port=free_port_block(len(ROLES) + 2 + 2 * INSTANCE_PORT_STRIDE)
        )
        self.components = {role.name: ProcessComponent(self.settings, role) for role in ROLES}

    def start(self, *roles: str) -> None:
        """Start `roles` (default: the stream processors) and wait until each is healthy."""
        chosen = roles or PIPELINE_ROLES
        for role in chosen:
            self.components[role].start_detached()
        for role in chosen:
            self.components[role].wait_healthy(timeout_s=60)

    def add_instance(self, role: str, instance: int) -> ProcessComponent:
        """Another process of `role` in the same consumer group."""
        base = self.components[role]
        extra = ProcessComponent(self.settings, base.role, instance=instance)
        self.components[extra.name] = extra
        return extra

    def kill(self, role: str) -> None:
        """SIGKILL: no shutdown hook runs, as in a crash."""
        pid = int(self.components[role].pid_file.read_text())
        os.killpg(pid, signal.SIGKILL)
        wait_until(lambda: self.components[role].health().state == "stopped", 10, f"{role} dead")

    def stop(self) -> None:
        for component in self.components.values():
            component.stop()
        if not os.environ.get("TESSERA_KEEP_TEST_HOMES"):
            shutil.rmtree(self.settings.home, ignore_errors=True)

    def log(self, role: str) -> str:
        path = self.components[role].log_file
        return path.read_text() if path.exists() else ""


def producer_for(settings: Settings) -> Producer:
    return Producer(producer_config(settings.kafka_bootstrap, **{"linger.ms": 5}))


def create_booking(**fields: Any) -> CreateBooking:
    """A CreateBooking as a partner builds it: a fresh command id, the booking id derived."""
    message_id = uuid.uuid4().hex
    return CreateBooking(message_id=message_id, booking_id=booking_id_for(message_id), **fields)


def send(
    settings: Settings, producer: Producer, messages: Iterable[Any], flush: bool = True
) -> None:
    for message in messages:
        out = route(message)
        producer.produce(settings.topic(out.topic), key=out.key.encode(), value=out.value)
        producer.poll(0)
    if flush and producer.flush(30) != 0:
        raise RuntimeError("Kafka did not acknowledge every message in 30 s")


class Watcher:
    """Collects booking events, item snapshots and payment events as they commit."""

    def __init__(self, settings: Settings) -> None:
        self.bookings: dict[str, Any] = {}
        self.booking_history: dict[str, list[Any]] = defaultdict(list)
        self.items: dict[str, Any] = {}
        self.payments: dict[str, list[Any]] = defaultdict(list)
        # (booking id, status) -> time.monotonic() when the watcher first saw it
        self.first_seen: dict[tuple[str, str], float] = {}
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._decoders = {
            settings.topic(BOOKING_EVENTS.name): booking_events.DECODER,
            settings.topic(INVENTORY_SNAPSHOTS.name): inventory_events.SNAPSHOT_DECODER,
            settings.topic(PAYMENT_EVENTS.name): payment_events.DECODER,
        }
        self._consumer = Consumer(
            {
                "bootstrap.servers": settings.kafka_bootstrap,
                "group.id": f"{settings.topic_prefix}watcher-{time.time_ns()}",
                "auto.offset.reset": "earliest",
                "isolation.level": "read_committed",
                "enable.auto.commit": False,
            }
        )
        self._consumer.subscribe(list(self._decoders))
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.is_set():
            # Wait for one record, then take what else is there without waiting: consume()
            # alone blocks until its batch is full or its timeout passes, which would add
            # up to that timeout to every latency measured from these first-seen times.
            first = self._consumer.poll(0.1)
            if first is None:
                continue
            for message in [first, *self._consumer.consume(500, 0)]:
                if message.error() is not None:
                    continue
                event = self._decoders[message.topic()].decode(message.value())
                with self._lock:
                    self._record(event)

    def _record(self, event: Any) -> None:
        match event:
            case booking_events.BookingChange():
                self.first_seen.setdefault((event.booking_id, str(event.status)), time.monotonic())
                self.booking_history[event.booking_id].append(event)
                current = self.bookings.get(event.booking_id)
                if current is None or current.version < event.version:
                    self.bookings[event.booking_id] = event
            case inventory_events.ItemSnapshot():
                current = self.items.get(event.item_id)
                if current is None or current.version < event.version:
                    self.items[event.item_id] = event
            case _ if hasattr(event, "booking_id"):
                self.payments[event.booking_id].append(event)

    def snapshot(self) -> tuple[dict[str, Any], dict[str, Any], dict[str, list[Any]]]:
        """Copies of (bookings, items, payments), taken under the lock (safe to iterate)."""
        with self._lock:
            return (
                dict(self.bookings),
                dict(self.items),
                {k: list(v) for k, v in self.payments.items()},
            )

    def status(self, booking_id: str) -> str | None:
        with self._lock:
            booking = self.bookings.get(booking_id)
        return None if booking is None else str(booking.status)

    def wait_status(self, booking_id: str, statuses: set[str], timeout_s: float = 60) -> Any:
        wait_until(
            lambda: self.status(booking_id) in statuses,
            timeout_s,
            f"{booking_id} to reach {statuses} (now {self.status(booking_id)})",
        )
        return self.bookings[booking_id]

    def close(self) -> None:
        self._stop.set()
        self._thread.join(5)
        self._consumer.close()


@dataclass
class RunningSystem:
    settings: Settings
    pipelines: Pipelines
    gateway: GatewaySimulator
    watcher: Watcher
    producer: Producer


def isolated(stack: Settings, partitions: int = 3, **overrides: object) -> Settings:
    settings = dataclasses.replace(
        stack,
        topic_prefix=f"t-{uuid.uuid4().hex[:10]}.",
        topic_partitions=partitions,
        **overrides,
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
    """Stop every process, then delete the run's topics (changelogs included): a broker
    that keeps every test's partitions runs out of file descriptors after a few runs."""
    try:
        system.watcher.close()
        system.pipelines.stop()
    finally:
        system.gateway.stop()
        if not os.environ.get("TESSERA_KEEP_TEST_HOMES"):
            delete_prefixed_topics(system.settings.kafka_bootstrap, system.settings.topic_prefix)


def delete_prefixed_topics(bootstrap: str, prefix: str) -> int:
    """Delete every topic whose name contains `prefix` (changelog topics carry it inside)."""
    if not prefix:
        return 0
    admin = AdminClient({"bootstrap.servers": bootstrap, "log_level": 0})
    names = [t for t in admin.list_topics(timeout=10).topics if prefix in t]
    if names:
        for name, future in admin.delete_topics(names, operation_timeout=30).items():
            try:
                future.result()
            except KafkaException as exc:  # gone already, or the broker is going down
                logger.warning("topic not deleted", extra={"topic": name, "error": str(exc)})
    return len(names)


def delete_prefixed_keys(redis_url: str, prefix: str) -> int:
    """Delete a run's Redis keys (idempotency records and accepted bookings live 24 h: a
    few runs would otherwise leave a Redis of millions of keys, slow to rewrite its AOF)."""
    if not prefix:
        return 0
    deleted = 0
    with redis.Redis.from_url(redis_url) as client:
        batch: list[bytes] = []
        for key in client.scan_iter(match=f"{prefix}*", count=5000):
            batch.append(key)
            if len(batch) >= 5000:
                deleted += client.unlink(*batch)
                batch = []
        if batch:
            deleted += client.unlink(*batch)
    return deleted
