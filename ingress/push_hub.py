"""One Redis pub/sub connection per process, shared by every live stream.

Streams subscribe to their booking's push channel (reference-counted: the channel is
subscribed once however many streams watch it); one reader task dispatches messages to
the streams' queues. If the connection is lost every stream gets _LOST and ends, and the
next subscription opens a new connection.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging

from redis.exceptions import RedisError

from .redis_gate import RedisGate

log = logging.getLogger(__name__)
LOST = b""  # queued to every stream when the hub's connection is lost


class PushHub:
    def __init__(self, gate: RedisGate) -> None:
        self.gate = gate
        self._pubsub = None  # type: ignore[var-annotated]
        self._reader: asyncio.Task[None] | None = None
        self._queues: dict[str, set[asyncio.Queue[bytes]]] = {}
        self._lock = asyncio.Lock()

    async def subscribe(self, channel: str) -> asyncio.Queue[bytes]:
        queue: asyncio.Queue[bytes] = asyncio.Queue()
        async with self._lock:
            with self.gate.guard("subscribe"):
                if self._pubsub is None:
                    self._pubsub = self.gate.client.pubsub(ignore_subscribe_messages=True)
                if channel not in self._queues:
                    await self._pubsub.subscribe(channel)
                    self._queues[channel] = set()
            self._queues[channel].add(queue)
            if self._reader is None or self._reader.done():
                self._reader = asyncio.create_task(self._read(self._pubsub), name="push-hub")
        return queue

    async def unsubscribe(self, channel: str, queue: asyncio.Queue[bytes]) -> None:
        async with self._lock:
            listeners = self._queues.get(channel)
            if listeners is None:
                return
            listeners.discard(queue)
            if not listeners:
                del self._queues[channel]
                if self._pubsub is not None:
                    with contextlib.suppress(RedisError, OSError):
                        await self._pubsub.unsubscribe(channel)

    async def _read(self, pubsub) -> None:  # type: ignore[no-untyped-def]
        while True:
            try:
                message = await pubsub.get_message(ignore_subscribe_messages=True, timeout=1.0)
            except (RedisError, OSError, RuntimeError) as exc:
                log.warning("push hub lost Redis; ending live streams", extra={"error": str(exc)})
                async with self._lock:
                    for listeners in self._queues.values():
                        for queue in listeners:
                            queue.put_nowait(LOST)
                    self._queues.clear()
                    self._pubsub = None
                with contextlib.suppress(Exception):
                    await pubsub.aclose()
                return
            if message is not None and message.get("type") == "message":
                channel = message["channel"].decode()
                for queue in self._queues.get(channel, ()):
                    queue.put_nowait(message["data"])

    async def close(self) -> None:
        for listeners in self._queues.values():  # end every stream: the process stops
            for queue in listeners:
                queue.put_nowait(LOST)
        if self._reader is not None:
            self._reader.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._reader
        if self._pubsub is not None:
            with contextlib.suppress(Exception):
                await self._pubsub.aclose()
