"""A lean open-loop load generator: fixed arrival rate, per-request timing.

Why not httpx or locust for the saturation measurements: on two shared cores the generator
must cost far less than what it measures. This client speaks just enough HTTP/1.1
(keep-alive, Content-Length bodies) over asyncio protocols on uvloop, ~20 us of Python per
request.

Open loop: request i is *due* at start + i / rate whatever happened before it. Its latency
is measured from that due time, so a server (or a connection limit) that makes requests
wait shows up in the figures instead of slowing the generator down (no coordinated
omission). `lag` is how late the generator itself fired: if it grows, the generator is the
bottleneck and the run says so.
"""

from __future__ import annotations

import asyncio
import re
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

_CONTENT_LENGTH = re.compile(rb"\r\ncontent-length:\s*(\d+)", re.IGNORECASE)
_CLOSE = re.compile(rb"\r\nconnection:\s*close", re.IGNORECASE)


class HttpError(Exception):
    """The connection failed or answered something this client does not parse."""


class _Connection(asyncio.Protocol):
    """One keep-alive HTTP/1.1 connection, one request at a time."""

    def __init__(self) -> None:
        self.transport: asyncio.Transport | None = None
        self.buffer = bytearray()
        self.waiter: asyncio.Future[tuple[int, bytes, bool]] | None = None
        self.closed = False

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed = True
        if self.waiter is not None and not self.waiter.done():
            self.waiter.set_exception(HttpError(f"connection lost: {exc}"))

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        waiter = self.waiter
        if waiter is None or waiter.done():
            return
        end = self.buffer.find(b"\r\n\r\n")
        if end < 0:
            return
        head = bytes(self.buffer[:end])
        match = _CONTENT_LENGTH.search(head)
        if match is None:
            waiter.set_exception(HttpError(f"no content-length: {head[:200]!r}"))
            return
        total = end + 4 + int(match.group(1))
        if len(self.buffer) < total:
            return
        body = bytes(self.buffer[end + 4 : total])
        del self.buffer[:total]
        waiter.set_result((int(head[9:12]), body, _CLOSE.search(head) is None))

    def send(self, raw: bytes) -> asyncio.Future[tuple[int, bytes, bool]]:
        assert self.transport is not None
        self.waiter = asyncio.get_running_loop().create_future()
        self.transport.write(raw)
        return self.waiter

    def close(self) -> None:
        self.closed = True
        if self.transport is not None:
            self.transport.close()


class HttpPool:
    """Up to `max_connections` keep-alive connections to one host:port."""

    def __init__(self, host: str, port: int, max_connections: int = 256) -> None:
        self.host, self.port = host, port
        self.host_header = f"{host}:{port}"
        self._idle: list[_Connection] = []
        self._slots = asyncio.Semaphore(max_connections)
        self._all: set[_Connection] = set()

    async def request(self, raw: bytes, timeout_s: float = 30.0) -> tuple[int, bytes]:
        """Send one raw request; (status, body). Raises HttpError or TimeoutError."""
        async with self._slots:
            conn = self._take_idle() or await self._connect()
            loop = asyncio.get_running_loop()
            try:
                future = conn.send(raw)
            except RuntimeError:  # closed under us before anything was sent: a fresh one
                self._discard(conn)
                conn = await self._connect()
                future = conn.send(raw)
            timer = loop.call_later(timeout_s, _expire, future)
            try:
                status, body, keep = await future
            except BaseException:
                self._discard(conn)
                raise
            finally:
                timer.cancel()
            if keep and not conn.closed:
                self._idle.append(conn)
            else:
                self._discard(conn)
            return status, body

    def _take_idle(self) -> _Connection | None:
        while self._idle:
            conn = self._idle.pop()
            if not conn.closed:
                return conn
            self._discard(conn)  # the server closed it while it was idle
        return None

    def _discard(self, conn: _Connection) -> None:
        conn.close()
        self._all.discard(conn)

    async def _connect(self) -> _Connection:
        loop = asyncio.get_running_loop()
        try:
            _, conn = await loop.create_connection(_Connection, self.host, self.port)
        except OSError as exc:
            raise HttpError(f"connect {self.host_header}: {exc}") from exc
        self._all.add(conn)
        return conn

    def close(self) -> None:
        for conn in list(self._all):
            conn.close()
        self._all.clear()
        self._idle.clear()


def _expire(future: asyncio.Future[tuple[int, bytes, bool]]) -> None:
    if not future.done():
        future.set_exception(TimeoutError("no answer in time"))


def build_request(
    method: str, path: str, host: str, headers: dict[str, str], body: bytes = b""
) -> bytes:
    lines = [f"{method} {path} HTTP/1.1", f"Host: {host}"]
    lines += [f"{k}: {v}" for k, v in headers.items()]
    if body or method in ("POST", "PUT"):
        lines.append(f"Content-Length: {len(body)}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body


@dataclass
class Schedule:
    """What one open-loop run fired: due times, how late each fired, and how it ended."""

    rate: float
    started: float = 0.0  # time.monotonic() of request 0's due time
    ended: float = 0.0  # when the schedule stopped (its end, or an early stop)
    fired: int = 0
    stopped_early: bool = False
    lags: list[float] = field(default_factory=list)  # seconds late, per fired request
    dropped: int = 0  # fired but still queued when the run was cut short


async def open_loop(
    rate: float,
    seconds: float,
    fire: Callable[[int, float], Awaitable[None]],
    should_stop: Callable[[float], bool] | None = None,
    on_tick: Callable[[float], None] | None = None,
) -> tuple[Schedule, set[asyncio.Task[None]]]:
    """Fire `fire(i, due)` at `rate` per second for `seconds`; returns the live tasks.

    `should_stop(elapsed)` is asked every 100 ms (an early stop on saturation); `on_tick`
    likewise (progress display). Waiting for the returned tasks is the caller's choice.
    """
    loop = asyncio.get_running_loop()
    schedule = Schedule(rate)
    tasks: set[asyncio.Task[None]] = set()
    start = time.monotonic() + 0.01
    schedule.started = start
    total = int(rate * seconds)
    next_check = start + 0.1
    i = 0
    while i < total:
        now = time.monotonic()
        if now >= next_check:
            next_check = now + 0.1
            if on_tick is not None:
                on_tick(now - start)
            if should_stop is not None and should_stop(now - start):
                schedule.stopped_early = True
                break
        due = start + i / rate
        if due > now:
            await asyncio.sleep(min(due - now, next_check - now))
            continue
        # Fire everything already due (catching up after a slow loop iteration).
        while i < total and start + i / rate <= now:
            due = start + i / rate
            schedule.lags.append(now - due)
            task = loop.create_task(fire(i, due))
            tasks.add(task)
            task.add_done_callback(tasks.discard)
            i += 1
    schedule.fired = i
    schedule.ended = min(time.monotonic(), start + seconds)
    return schedule, tasks
