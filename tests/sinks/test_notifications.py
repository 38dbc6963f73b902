"""Notification pipeline on the real stack: SMTP (aiosmtpd), a 50%-failing SMS provider,
signed webhooks to a local HTTP server, live push via Redis; retries, dead letters,
deduplication by notification id, masking in logs."""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import psycopg
import pytest
import redis
from confluent_kafka import Consumer

from schemas.notifications import (
    EmailRequested,
    NotificationRequest,
    PushRequested,
    SmsRequested,
    WebhookRequested,
)
from schemas.topics import NOTIFICATION_QUEUE, NOTIFICATION_RETRY
from sinks.base.config import Backoff
from sinks.cache_contract import booking_key, push_channel
from sinks.notifications.app import build_service
from sinks.notifications.channels.base import Channel, ChannelName
from sinks.notifications.channels.email import SmtpEmailChannel
from sinks.notifications.channels.push import PushChannel
from sinks.notifications.channels.sms import SmsChannel
from sinks.notifications.channels.webhook import WebhookChannel
from sinks.notifications.config import NotificationConfig, SmtpConfig, WebhookConfig
from tessera.config import Settings

from .fakes import FlakySmsProvider, SmtpCollector, WebhookReceiver, smtp_server, webhook_server
from .support import (
    DatabaseFactory,
    produce,
    produce_raw,
    running,
    use_databases,
    wait_caught_up,
)

SECRET = "partner-secret"
DATA = {
    "booking_id": "",
    "item_id": "item-7",
    "quantity": "2",
    "status": "CONFIRMED",
    "reason": "",
    "amount_minor": "3000",
    "currency": "EUR",
}


@dataclass
class Rig:
    settings: Settings
    dsn: str
    smtp_port: int
    smtp: SmtpCollector
    sms: FlakySmsProvider
    webhooks: WebhookReceiver
    webhook_url: str
    redis: redis.Redis


@pytest.fixture
def rig(
    isolated_settings: Callable[..., Settings],
    databases: DatabaseFactory,
    monkeypatch: pytest.MonkeyPatch,
) -> Iterator[Rig]:
    settings = isolated_settings(partitions=3)
    dsns = databases()
    use_databases(monkeypatch, dsns)
    client = redis.Redis.from_url(settings.redis_url)
    receiver = WebhookReceiver(SECRET, fail_first=1, reject=frozenset({"wh-rejected"}))
    with smtp_server() as (port, collector), webhook_server(receiver) as url:
        yield Rig(
            settings,
            dsns["notification"],
            port,
            collector,
            FlakySmsProvider(0.0),
            receiver,
            url,
            client,
        )
    for key in client.scan_iter(match=f"{settings.topic_prefix}tessera:*"):
        client.delete(key)
    client.close()


def config(rig: Rig, max_attempts: int, backoff: Backoff) -> NotificationConfig:
    return NotificationConfig(
        smtp=SmtpConfig(host="127.0.0.1", port=rig.smtp_port, timeout_s=5),
        webhook=WebhookConfig(secret=SECRET, timeout_s=2),
        max_attempts=max_attempts,
        retry_backoff=backoff,
        concurrency=8,
        commit_interval_s=0.2,
    )


def channels(
    rig: Rig, cfg: NotificationConfig, sms: FlakySmsProvider
) -> dict[ChannelName, Channel]:
    return {
        "EMAIL": SmtpEmailChannel(cfg.smtp),
        "SMS": SmsChannel(sms, timeout_s=0.05),
        "WEBHOOK": WebhookChannel(cfg.webhook),
        "PUSH": PushChannel(rig.redis, rig.settings.topic_prefix),
    }


def email(n: int) -> EmailRequested:
    booking = f"bk-{n:03d}"
    return EmailRequested(
        notification_id=f"{booking}:2:email",
        booking_id=booking,
        to=f"guest{n}@example.com",
        template="booking_confirmed",
        data={**DATA, "booking_id": booking},
    )


def sms(n: int) -> SmsRequested:
    booking = f"bk-{n:03d}"
    return SmsRequested(
        notification_id=f"{booking}:2:sms",
        booking_id=booking,
        to=f"+4915112345{n:03d}",
        template="booking_confirmed",
        data={**DATA, "booking_id": booking},
    )


def webhook(n: int, url: str, nid: str = "") -> WebhookRequested:
    booking = f"bk-{n:03d}"
    return WebhookRequested(
        notification_id=nid or f"{booking}:2:webhook",
        booking_id=booking,
        url=url,
        event_type="booking.confirmed",
        body={**DATA, "booking_id": booking},
    )


def push(n: int) -> PushRequested:
    booking = f"bk-{n:03d}"
    return PushRequested(
        notification_id=f"{booking}:2:push",
        booking_id=booking,
        user_id="user-1",
        status="CONFIRMED",
    )


def statuses(dsn: str) -> dict[str, str]:
    with psycopg.connect(dsn) as conn:
        return dict(conn.execute("SELECT notification_id, status FROM notifications").fetchall())


def wait_for(
    dsn: str, expected: dict[str, str], check: Callable[[], None], timeout_s: float
) -> None:
    deadline = time.monotonic() + timeout_s
    while True:
        current = statuses(dsn)
        if all(current.get(k) == v for k, v in expected.items()):
            return
        check()
        missing = {k: current.get(k) for k, v in expected.items() if current.get(k) != v}
        assert time.monotonic() < deadline, f"not there yet: {dict(list(missing.items())[:5])}"
        time.sleep(0.1)


def test_failing_sms_provider_still_delivers_everything_once(
    rig: Rig, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="sinks")
    cfg = config(rig, max_attempts=30, backoff=Backoff(initial_s=0.02, max_s=0.2))
    provider = FlakySmsProvider(fail_rate=0.5, timeout_rate=0.1, seed=3)
    requests: list[NotificationRequest] = [
        *(email(n) for n in range(30)),
        *(sms(n) for n in range(60)),
        *(webhook(n, rig.webhook_url) for n in range(15)),
        *(push(n) for n in range(6)),
    ]
    for n in range(3):  # the cache sink already wrote these views
        view = {
            "booking_id": f"bk-{n:03d}",
            "user_id": "user-1",
            "item_id": "item-7",
            "quantity": 2,
            "status": "CONFIRMED",
            "version": 2,
        }
        rig.redis.set(booking_key(rig.settings.topic_prefix, f"bk-{n:03d}"), json.dumps(view))
    pubsub = rig.redis.pubsub()
    pubsub.psubscribe(push_channel(rig.settings.topic_prefix, "*"))
    produce(rig.settings, requests)
    produce(rig.settings, requests[::4])  # redelivered requests: the same notification ids

    service = build_service(rig.settings, cfg, channels(rig, cfg, provider))
    expected = {r.notification_id: "DELIVERED" for r in requests}
    with running(service.run) as loop:
        wait_for(rig.dsn, expected, loop.check, timeout_s=90)
        group = rig.settings.topic("tessera-notifications")
        wait_caught_up(
            rig.settings, group, [NOTIFICATION_QUEUE, NOTIFICATION_RETRY], alive=loop.check
        )

    # SMS: the provider failed about half the calls, yet every message reached its phone once.
    assert provider.failures > 20 and provider.timeouts > 0
    assert set(provider.sent) == {f"bk-{n:03d}:2:sms" for n in range(60)}
    assert set(provider.sent.values()) == {1}
    # Email: every confirmation arrived in the SMTP server exactly once.
    ids = [m["Tessera-Notification-Id"] for m in rig.smtp.messages]
    assert sorted(ids) == sorted(f"bk-{n:03d}:2:email" for n in range(30))
    first = next(m for m in rig.smtp.messages if m["To"] == "guest0@example.com")
    assert first["Subject"] == "Your booking bk-000 is confirmed"
    assert "item-7 x 2" in first.get_payload()
    # Webhooks: every request signed; each accepted once (after a 503 on the first try).
    assert all(valid for _, valid, _ in rig.webhooks.requests)
    assert set(rig.webhooks.accepted) == {f"bk-{n:03d}:2:webhook" for n in range(15)}
    assert set(rig.webhooks.accepted.values()) == {1}
    # Push: the cached views were published on their booking's channel.
    pushed = set()
    deadline = time.monotonic() + 5
    while len(pushed) < 3 and time.monotonic() < deadline:
        message = pubsub.get_message(timeout=0.5)
        if message and message["type"] == "pmessage":
            pushed.add(json.loads(message["data"])["booking_id"])
    assert pushed == {"bk-000", "bk-001", "bk-002"}
    pubsub.close()
    # Retries were logged per attempt; the raw contact data never reached a log line.
    with psycopg.connect(rig.dsn) as conn:
        retried = conn.execute(
            "SELECT count(DISTINCT notification_id) FROM notification_log WHERE attempt > 1"
        ).fetchone()
        recipients = conn.execute("SELECT recipient_masked FROM notifications").fetchall()
    assert retried is not None and retried[0] > 10
    assert not any("@example.com" in r and not r.startswith(("g***@",)) for (r,) in recipients)
    logged = " ".join(f"{r.getMessage()} {vars(r)}" for r in caplog.records)
    assert "guest0@example.com" not in logged and "+4915112345000" not in logged
    assert "g***@example.com" in logged


def test_permanent_failures_go_to_the_dead_letter_topic_without_blocking_others(rig: Rig) -> None:
    cfg = config(rig, max_attempts=3, backoff=Backoff(initial_s=1.0, max_s=1.0, jitter=0))
    provider = FlakySmsProvider(fail_rate=1.0)
    doomed = [sms(900), webhook(901, rig.webhook_url, nid="wh-rejected")]
    others = [email(n) for n in range(20)]
    produce_raw(rig.settings, NOTIFICATION_QUEUE.name, b"garbage", b'{"type":"EmailRequested"}')
    produce(rig.settings, [*doomed, *others])
    service = build_service(rig.settings, cfg, channels(rig, cfg, provider))
    with running(service.run) as loop:
        started = time.monotonic()
        wait_for(rig.dsn, {e.notification_id: "DELIVERED" for e in others}, loop.check, 30)
        # The emails behind the failing SMS did not wait for its retries (1 s apart).
        assert time.monotonic() - started < 1.5
        wait_for(rig.dsn, {"bk-900:2:sms": "DEAD", "wh-rejected": "DEAD"}, loop.check, 30)
        group = rig.settings.topic("tessera-notifications")
        wait_caught_up(
            rig.settings, group, [NOTIFICATION_QUEUE, NOTIFICATION_RETRY], alive=loop.check
        )
    assert provider.calls == 3
    dead = dead_letters(rig.settings, 3)
    assert sorted((d["key"], d["x-dlq-reason"], d["x-notification-attempt"]) for d in dead) == [
        ("bk-900:2:sms", "MAX_ATTEMPTS", "3"),
        ("garbage", "UNDECODABLE", "0"),
        ("wh-rejected", "REJECTED", "1"),
    ]
    with psycopg.connect(rig.dsn) as conn:
        log = conn.execute(
            "SELECT attempt, outcome FROM notification_log WHERE notification_id = 'bk-900:2:sms'"
            " ORDER BY attempt"
        ).fetchall()
    assert log == [(1, "FAILED"), (2, "FAILED"), (3, "DEAD")]


def dead_letters(settings: Settings, expected: int) -> list[dict[str, str]]:
    consumer = Consumer(
        {
            "bootstrap.servers": settings.kafka_bootstrap,
            "log_level": 3,
            "group.id": settings.topic("dlq-reader"),
            "auto.offset.reset": "earliest",
        }
    )
    consumer.subscribe([settings.topic(NOTIFICATION_QUEUE.dead_letter)])
    found: list[dict[str, str]] = []
    try:
        deadline = time.monotonic() + 20
        while len(found) < expected and time.monotonic() < deadline:
            for message in consumer.consume(10, 0.2):
                headers = {k: v.decode() for k, v in message.headers() or ()}
                found.append({**headers, "key": message.key().decode()})
    finally:
        consumer.close()
    return found
