"""A lean pipelined Redis connection for the hot path (admission and finish scripts).

redis-py's asyncio client spends most of the ingress's Redis CPU on layers the hot path
does not need: a pool checkout, a retry wrapper and a timeout context per call, and
Python-side reply parsing. Here every command goes down one connection: the commands
issued in one event-loop turn are packed and written together (one syscall), hiredis
parses the replies, and replies resolve futures in the order the commands went out
(Redis answers a connection in order). One watchdog per connection, not one timer per
call, aborts the connection when the oldest reply is overdue.

Failures keep redis-py's exception types so `RedisGate`'s guard maps them alike:
connection trouble raises `ConnectionError`/`TimeoutError`, an error reply raises
`ResponseError` (`NoScriptError` for NOSCRIPT).
"""

from __future__ import annotations

import asyncio
import time
from collections import deque
from typing import Any
from urllib.parse import unquote, urlsplit

import hiredis
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import InvalidResponse, NoScriptError, ResponseError
from redis.exceptions import TimeoutError as RedisTimeoutError

Arg = bytes | str | int


def pack(args: tuple[Arg, ...]) -> bytes:
    """One command in RESP (an array of bulk strings), packed by hiredis in C."""
    return hiredis.pack_command(args)  # type: ignore[no-any-return]


class _Connection(asyncio.Protocol):
    """One TCP connection: its unwritten commands and the replies it still owes, in order."""

    def __init__(self, loop: asyncio.AbstractEventLoop, socket_timeout_s: float) -> None:
        # the loop kept, not looked up: on 3.11 get_running_loop() costs a getpid() syscall
        self.loop, self.socket_timeout_s = loop, socket_timeout_s
        self.reader = hiredis.Reader(protocolError=InvalidResponse, replyError=ResponseError)
        self.transport: asyncio.Transport | None = None
        self.waiting: deque[tuple[asyncio.Future[Any], float]] = deque()
        self.outbox: list[bytes] = []
        self.flush_scheduled = False
        self.watchdog: asyncio.TimerHandle | None = None
        self.closed = False

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]

    def send(self, packed: bytes) -> asyncio.Future[Any]:
        future: asyncio.Future[Any] = self.loop.create_future()
        if self.closed:
            future.set_exception(RedisConnectionError("Redis connection closed"))
            return future
        self.outbox.append(packed)
        self.waiting.append((future, time.monotonic()))
        if not self.flush_scheduled:
            self.flush_scheduled = True
            self.loop.call_soon(self._flush)
        return future

    def _flush(self) -> None:
        self.flush_scheduled = False
        if self.closed or not self.outbox or self.transport is None:
            return
        data, self.outbox = b"".join(self.outbox), []
        self.transport.write(data)
        if self.watchdog is None:
            self.watchdog = self.loop.call_later(self.socket_timeout_s, self._check_overdue)

    def _check_overdue(self) -> None:
        self.watchdog = None
        if not self.waiting or self.closed:
            return
        overdue_at = self.waiting[0][1] + self.socket_timeout_s
        now = time.monotonic()
        if now >= overdue_at:
            self.abort(RedisTimeoutError(f"no reply from Redis in {self.socket_timeout_s} s"))
            return
        self.watchdog = self.loop.call_later(overdue_at - now, self._check_overdue)

    def data_received(self, data: bytes) -> None:
        self.reader.feed(data)
        while (reply := self.reader.gets()) is not False:
            if not self.waiting:  # a reply nobody asked for: the stream is out of step
                self.abort(RedisConnectionError("unexpected reply from Redis"))
                return
            future, _ = self.waiting.popleft()
            if future.done():  # the caller was cancelled; the reply still takes its slot
                continue
            if isinstance(reply, ResponseError):
                text = str(reply)
                future.set_exception(NoScriptError(text) if text.startswith("NOSCRIPT") else reply)
            else:
                future.set_result(reply)

    def connection_lost(self, exc: Exception | None) -> None:
        self.abort(RedisConnectionError(f"Redis connection lost: {exc!r}"))

    def abort(self, reason: Exception) -> None:
        """Close at once and fail every reply still owed (the first reason wins)."""
        if self.closed:
            return
        self.closed = True
        if self.watchdog is not None:
            self.watchdog.cancel()
        if self.transport is not None:
            self.transport.abort()
        waiting, self.waiting, self.outbox = self.waiting, deque(), []
        for future, _ in waiting:
            if not future.done():
                future.set_exception(reason)


class PipelinedRedis:
    def __init__(self, url: str, *, socket_timeout_s: float, connect_timeout_s: float) -> None:
        parts = urlsplit(url)
        self.host, self.port = parts.hostname or "127.0.0.1", parts.port or 6379
        self.password = unquote(parts.password) if parts.password else None
        self.username = unquote(parts.username) if parts.username else None
        self.db = int(parts.path.strip("/") or 0)
        self.socket_timeout_s, self.connect_timeout_s = socket_timeout_s, connect_timeout_s
        self._connection: _Connection | None = None
        self._connecting: asyncio.Task[_Connection] | None = None

    async def execute(self, *args: Arg) -> Any:
        connection = self._connection
        if connection is None or connection.closed:
            connection = await self._connect()
        return await connection.send(pack(args))

    def submit(self, *args: Arg) -> asyncio.Future[Any] | None:
        """The reply's future when connected (no coroutine in between: the hot path);
        None when a connection has to be made first (then use `execute`)."""
        connection = self._connection
        if connection is None or connection.closed:
            return None
        return connection.send(pack(args))

    async def _connect(self) -> _Connection:
        """Connect once for every caller; a cancelled caller does not cancel the connect."""
        if self._connecting is None:
            self._connecting = asyncio.ensure_future(self._open())
            self._connecting.add_done_callback(self._connected)
        return await asyncio.shield(self._connecting)

    def _connected(self, task: asyncio.Task[_Connection]) -> None:
        self._connecting = None
        if not task.cancelled() and task.exception() is None:  # exception() marks it seen
            self._connection = task.result()

    async def _open(self) -> _Connection:
        loop = asyncio.get_running_loop()
        try:
            _, connection = await asyncio.wait_for(
                loop.create_connection(
                    lambda: _Connection(loop, self.socket_timeout_s), self.host, self.port
                ),
                self.connect_timeout_s,
            )
        except (OSError, TimeoutError) as exc:
            raise RedisConnectionError(
                f"cannot connect to Redis at {self.host}:{self.port}: {exc!r}"
            ) from exc
        if self.password is not None:
            auth = (self.username, self.password) if self.username else (self.password,)
            await connection.send(pack(("AUTH", *auth)))
        if self.db:
            await connection.send(pack(("SELECT", self.db)))
        return connection

    async def close(self) -> None:
        if self._connection is not None:
            self._connection.abort(RedisConnectionError("client closed"))
            self._connection = None
        await asyncio.sleep(0)  # let the transport finish closing
