"""Produces a Tick for every elapsed one-second bucket, so timers fire with no traffic.

The last ticked bucket is kept in a compacted single-partition topic; a restarted
ticker resumes after it (at most `max_catch_up_s` back), so buckets that came due while
it was down still fire. Two tickers (two timer instances) only duplicate ticks, and a
bucket fires its timers once however many ticks reach it.
"""

from __future__ import annotations

import logging
import threading
import time

from confluent_kafka import Consumer, Producer, TopicPartition

from schemas import codec
from schemas.timers import BUCKET_MS, Tick
from schemas.topics import TICKER_CURSOR, TIMERS
from tessera.config import Settings
from tessera.kafka_clients import producer_config

from ..runtime import metrics

logger = logging.getLogger(__name__)
CURSOR_KEY = b"cursor"


class Ticker:
    def __init__(self, settings: Settings, max_catch_up_s: int = 3600) -> None:
        self.settings = settings
        self.max_catch_up_s = max_catch_up_s
        self.timers_topic = settings.topic(TIMERS.name)
        self.cursor_topic = settings.topic(TICKER_CURSOR.name)
        self.producer = Producer(producer_config(settings.kafka_bootstrap, **{"linger.ms": 0}))
        self._stop = threading.Event()

    def last_ticked(self) -> int | None:
        consumer = Consumer(
            {
                "bootstrap.servers": self.settings.kafka_bootstrap,
                "group.id": f"{self.cursor_topic}-reader",
                "enable.auto.commit": False,
                "log_level": 3,
            }
        )
        try:
            low, high = consumer.get_watermark_offsets(TopicPartition(self.cursor_topic, 0), 10)
            if high <= low:
                return None
            consumer.assign([TopicPartition(self.cursor_topic, 0, high - 1)])
            deadline = time.monotonic() + 10
            while time.monotonic() < deadline:
                message = consumer.poll(0.5)
                if message is not None and message.error() is None:
                    return int(message.value())
            return None
        finally:
            consumer.close()

    def run(self) -> None:
        now_bucket = time.time_ns() // 1_000_000 // BUCKET_MS
        cursor = self.last_ticked()
        floor = now_bucket - self.max_catch_up_s
        next_bucket = max(cursor + 1, floor) if cursor is not None else now_bucket - 5
        while not self._stop.is_set():
            current = time.time_ns() // 1_000_000 // BUCKET_MS
            if next_bucket <= current and self._tick_through(next_bucket, current):
                next_bucket = current + 1
            self.producer.poll(0)
            wake_in = (next_bucket * BUCKET_MS - time.time_ns() / 1_000_000) / 1000
            self._stop.wait(max(0.005, min(wake_in, 0.5)))
        self.producer.flush(10)

    def _tick_through(self, first: int, last: int) -> bool:
        for bucket in range(first, last + 1):
            self.producer.produce(
                self.timers_topic, key=str(bucket).encode(), value=codec.encode(Tick(bucket=bucket))
            )
        remaining = self.producer.flush(10)
        if remaining:
            metrics.ERRORS.labels("timers", "tick_produce").inc()
            logger.error("ticks not acknowledged; the cursor stays behind so they are resent")
            return False
        self.producer.produce(self.cursor_topic, key=CURSOR_KEY, value=str(last).encode())
        return True

    def stop(self) -> None:
        self._stop.set()
