"""Timers without traffic, concurrency in the payment stage, crashes and rebalances."""

from __future__ import annotations

import time

from confluent_kafka.admin import AdminClient

from load.system_harness import (
    RunningSystem,
    create_booking,
    send,
    start_system,
    stop_system,
    wait_until,
)
from tessera.config import Settings

from .invariants import TERMINAL, assert_invariants
from .test_booking_saga import book, new_item


def test_a_hold_expires_with_no_other_traffic(stack: Settings) -> None:
    # No payment worker: the booking sits holding stock, and nothing else moves.
    system = start_system(stack, roles=("timers", "inventory", "saga"), hold_ttl_s=2)
    try:
        item_id = new_item(system, capacity=1)
        booking_id = book(system, item_id)
        wait_until(lambda: system.watcher.items[item_id].held == 1, 30, "the hold")
        wait_until(lambda: system.watcher.items[item_id].held == 0, 30, "the hold to expire")
        assert system.watcher.items[item_id].sold == 0
        # The worker comes back: the late authorization is voided, the booking fails.
        system.pipelines.start("payment")
        booking = system.watcher.wait_status(booking_id, TERMINAL)
        assert (str(booking.status), booking.reason) == ("FAILED", "HOLD_EXPIRED")
        assert_invariants(system, {booking_id: (item_id, 1)}, {item_id: 1})
    finally:
        stop_system(system)


def test_a_slow_gateway_call_does_not_stall_its_partition(stack: Settings) -> None:
    system = start_system(
        stack, partitions=1, gateway_timeout_s=10.0, simulator_env={"TESSERA_SIM_SLOW_MS": "4000"}
    )
    try:
        item_id = new_item(system, capacity=10)
        slow = book(system, item_id, payment_method="pm_card_slow")
        time.sleep(0.5)
        fast = [book(system, item_id) for _ in range(5)]
        for booking_id in fast:
            system.watcher.wait_status(booking_id, {"COMPLETED"}, timeout_s=30)
        # Every booking behind the slow one in its (only) partition finished first.
        assert system.watcher.status(slow) == "PENDING"
        system.watcher.wait_status(slow, {"COMPLETED"}, timeout_s=30)
    finally:
        stop_system(system)


def test_sigkill_mid_stream_then_restart(stack: Settings) -> None:
    system = start_system(stack)
    try:
        items = {new_item(system, capacity=30): 30 for _ in range(3)}
        bookings = {}
        messages = []
        for n in range(300):
            item_id = list(items)[n % 3]
            method = "pm_card_chargeDeclined" if n % 10 == 0 else "pm_card_visa"
            command = create_booking(
                user_id=f"u{n}", item_id=item_id, quantity=1, payment_method=method
            )
            bookings[command.booking_id] = (item_id, 1)
            messages.append(command)
        send(system.settings, system.producer, messages[:150])
        for role in ("saga", "payment", "inventory", "timers"):
            time.sleep(0.5)
            system.pipelines.kill(role)
        send(system.settings, system.producer, messages[150:])
        system.pipelines.start()
        wait_until(
            lambda: all(system.watcher.status(b) in TERMINAL for b in bookings),
            180,
            "every booking terminal after the crash",
        )
        outcomes = assert_invariants(system, bookings, items)
        # A declined booking holds stock until its release, so a few buyers behind it may
        # see SOLD_OUT; nothing else may happen to anyone.
        assert set(outcomes) <= {"COMPLETED:", "FAILED:PAYMENT_DECLINED", "FAILED:SOLD_OUT"}
        assert outcomes["FAILED:PAYMENT_DECLINED"] <= 30
        assert 60 <= outcomes["COMPLETED:"] <= 90
    finally:
        stop_system(system)


def test_second_instance_takes_partitions_and_state_follows(stack: Settings) -> None:
    system = start_system(stack, partitions=4)
    try:
        item_id = new_item(system, capacity=100)
        first_wave = [book(system, item_id) for _ in range(20)]
        second = system.pipelines.add_instance("saga", 2)
        second.start()
        owners = _partition_owners(system, "saga")
        wait_until(
            lambda: len(set(_partition_owners(system, "saga").values())) == 2,
            60,
            f"both saga instances to own partitions ({owners})",
        )
        # The first instance dies; the second restores every saga from the changelog.
        system.pipelines.kill("saga")
        later = [book(system, item_id) for _ in range(20)]
        for booking_id in first_wave + later:
            system.watcher.wait_status(booking_id, TERMINAL, timeout_s=90)
        assert_invariants(system, {b: (item_id, 1) for b in first_wave + later}, {item_id: 100})
        assert all(
            str(system.watcher.bookings[b].status) == "COMPLETED" for b in first_wave + later
        )
    finally:
        stop_system(system)


def _partition_owners(system: RunningSystem, role: str) -> dict[int, str]:
    admin = AdminClient({"bootstrap.servers": system.settings.kafka_bootstrap})
    group = system.settings.topic(f"tessera-{role}")
    description = admin.describe_consumer_groups([group])[group].result()
    return {
        tp.partition: member.group_instance_id or member.member_id
        for member in description.members
        for tp in member.assignment.topic_partitions
        if tp.topic == system.settings.topic("booking-commands")
    }
