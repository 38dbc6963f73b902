"""Live push of booking status changes as server-sent events.

A stream subscribes (push_hub.PushHub) before it reads the current state, sends that
state first, then each newer version published on the booking's push channel, and ends
at a terminal status.
Comment lines keep idle connections alive. If the hub loses Redis, streams end and the
client's EventSource reconnects (the `retry:` hint) and receives the current state again.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time

import msgspec

from schemas.base import TERMINAL_STATUSES

from .http import Receive, Send, StreamResponse
from .metrics import SSE_STREAMS
from .models import BookingView
from .push_hub import LOST
from .views import decode_cached_booking

log = logging.getLogger(__name__)
_encode = msgspec.json.Encoder().encode


def _event(view: BookingView) -> bytes:
    return b"id: %d\nevent: status\ndata: %s\n\n" % (view.version, _encode(view))


def status_stream(
    first: BookingView,
    queue: asyncio.Queue[bytes],
    release: contextlib.AbstractAsyncContextManager[None],
    heartbeat_s: float,
    max_duration_s: float,
) -> StreamResponse:
    """A StreamResponse that sends `first`, then newer versions from `queue`, until terminal."""

    async def produce(send: Send, receive: Receive) -> None:
        async with release:
            SSE_STREAMS.inc()
            disconnected = asyncio.create_task(_wait_disconnect(receive))
            try:
                await _stream(send, first, queue, disconnected, heartbeat_s, max_duration_s)
            finally:
                disconnected.cancel()
                SSE_STREAMS.dec()

    return StreamResponse("text/event-stream", produce)


async def _stream(
    send: Send,
    view: BookingView,
    queue: asyncio.Queue[bytes],
    disconnected: asyncio.Task[None],
    heartbeat_s: float,
    max_duration_s: float,
) -> None:
    async def chunk(data: bytes, more: bool = True) -> None:
        await send({"type": "http.response.body", "body": data, "more_body": more})

    deadline = time.monotonic() + max_duration_s
    last = view.version
    await chunk(b"retry: 3000\n\n" + _event(view), view.status not in TERMINAL_STATUSES)
    if view.status in TERMINAL_STATUSES:
        return
    while time.monotonic() < deadline:
        getter = asyncio.ensure_future(queue.get())
        done, _ = await asyncio.wait(
            {getter, disconnected}, timeout=heartbeat_s, return_when=asyncio.FIRST_COMPLETED
        )
        if disconnected in done:
            getter.cancel()
            return
        if getter not in done:
            getter.cancel()
            await chunk(b": heartbeat\n\n")
            continue
        data = getter.result()
        if data == LOST:
            break
        try:
            update = decode_cached_booking(data)
        except msgspec.DecodeError:
            log.warning("undecodable push message")
            continue
        if update.version <= last:
            continue
        last = update.version
        if update.status in TERMINAL_STATUSES:
            await chunk(_event(update), more=False)
            return
        await chunk(_event(update))
    await chunk(b"", more=False)


async def _wait_disconnect(receive: Receive) -> None:
    while (await receive())["type"] != "http.disconnect":
        pass
