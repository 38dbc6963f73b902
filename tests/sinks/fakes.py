"""Test doubles of the notification providers, all real servers where one exists:
an aiosmtpd SMTP server, a local HTTP server for partner webhooks, a flaky SMS provider."""

from __future__ import annotations

import email
import random
import socket
import threading
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from email.message import Message
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from aiosmtpd.controller import Controller

from sinks.exceptions import DeliveryError, DeliveryTimeoutError, SignatureError
from sinks.notifications.webhook_verify import HEADER, ID_HEADER, verify


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class FlakySmsProvider:
    """Fails `fail_rate` of calls outright; times out `timeout_rate` of them, half of those
    after accepting the message (the answer is lost). Like real providers that take an
    Idempotency-Key, a repeated key returns the first message instead of sending again."""

    def __init__(self, fail_rate: float, timeout_rate: float = 0.0, seed: int = 1) -> None:
        self.fail_rate, self.timeout_rate = fail_rate, timeout_rate
        self.rng = random.Random(seed)
        self.lock = threading.Lock()
        self.calls = 0
        self.failures = 0
        self.timeouts = 0
        self.sent: Counter[str] = Counter()  # messages that reached a phone, per key
        self.bodies: dict[str, str] = {}

    def send(self, to: str, body: str, idempotency_key: str, timeout_s: float) -> str:
        with self.lock:
            self.calls += 1
            roll = self.rng.random()
        if roll < self.fail_rate:
            with self.lock:
                self.failures += 1
            raise DeliveryError("provider answered 503")
        if roll < self.fail_rate + self.timeout_rate:
            if roll < self.fail_rate + self.timeout_rate / 2:
                self._accept(idempotency_key, body)
            time.sleep(timeout_s)
            with self.lock:
                self.timeouts += 1
            raise DeliveryTimeoutError("provider did not answer in time")
        return self._accept(idempotency_key, body)

    def _accept(self, key: str, body: str) -> str:
        with self.lock:
            if key not in self.sent:
                self.sent[key] += 1
                self.bodies[key] = body
        return f"sms-{key}"


class SmtpCollector:
    def __init__(self) -> None:
        self.messages: list[Message] = []
        self.lock = threading.Lock()

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802
        with self.lock:
            self.messages.append(email.message_from_bytes(envelope.content))
        return "250 Message accepted for delivery"


@contextmanager
def smtp_server() -> Iterator[tuple[int, SmtpCollector]]:
    """A real SMTP server (aiosmtpd) on a free loopback port; yields (port, collector)."""
    collector = SmtpCollector()
    port = free_port()
    controller = Controller(collector, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield port, collector
    finally:
        controller.stop()


class WebhookReceiver:
    """Records every request with its signature check; answers 503 to `fail_first` of
    the first requests per notification id, 400 to ids in `reject`."""

    def __init__(self, secret: str, fail_first: int = 0, reject: frozenset[str] = frozenset()):
        self.secret, self.fail_first, self.reject = secret, fail_first, reject
        self.lock = threading.Lock()
        self.requests: list[tuple[str, bool, bytes]] = []  # (notification id, valid, body)
        self.accepted: Counter[str] = Counter()
        self.seen: Counter[str] = Counter()

    def handle(self, headers: Any, body: bytes) -> int:
        nid = headers.get(ID_HEADER, "")
        try:
            verify(self.secret, headers.get(HEADER), body)
            valid = True
        except SignatureError:
            valid = False
        with self.lock:
            self.requests.append((nid, valid, body))
            self.seen[nid] += 1
            if not valid:
                return 401
            if nid in self.reject:
                return 400
            if self.seen[nid] <= self.fail_first:
                return 503
            self.accepted[nid] += 1
            return 204


@contextmanager
def webhook_server(receiver: WebhookReceiver) -> Iterator[str]:
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802
            body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
            self.send_response(receiver.handle(self.headers, body))
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
            return

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/hooks/tessera?token=abc"
    finally:
        server.shutdown()
        server.server_close()
