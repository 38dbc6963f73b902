"""The pipelined Redis connection: ordered replies, per-call errors, timeouts, reconnects."""

from __future__ import annotations

import asyncio
import socket
import time
import uuid
from collections.abc import AsyncIterator

import pytest
import redis
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import NoScriptError, ResponseError
from redis.exceptions import TimeoutError as RedisTimeoutError

from ingress.resp import PipelinedRedis, pack
from tessera.config import Settings

pytestmark = pytest.mark.anyio


def test_pack_writes_resp_bulk_strings() -> None:
    packed = pack(("SET", "k", b"v\r\n", 42))
    assert packed == b"*4\r\n$3\r\nSET\r\n$1\r\nk\r\n$3\r\nv\r\n\r\n$2\r\n42\r\n"


async def _client(url: str, timeout_s: float = 2.0) -> PipelinedRedis:
    return PipelinedRedis(url, socket_timeout_s=timeout_s, connect_timeout_s=timeout_s)


async def test_concurrent_commands_get_their_own_replies(stack: Settings) -> None:
    client = await _client(stack.redis_url)
    key = f"test-resp:{uuid.uuid4().hex}"
    try:
        results = await asyncio.gather(
            *(client.execute("INCRBY", key, i) for i in range(1, 201)),
            client.execute("HSET", key, "f", "v"),  # WRONGTYPE: fails alone
            return_exceptions=True,
        )
        totals = results[:200]
        assert sorted(totals) == [i * (i + 1) // 2 for i in range(1, 201)]  # type: ignore[type-var]
        assert totals == sorted(totals)  # replies came back in the order the commands went
        assert isinstance(results[200], ResponseError) and "WRONGTYPE" in str(results[200])
        assert await client.execute("GET", key) == b"20100"
        with pytest.raises(NoScriptError):
            await client.execute("EVALSHA", "0" * 40, 0)
    finally:
        await client.execute("DEL", key)
        await client.close()


async def test_a_cancelled_caller_does_not_shift_the_replies(stack: Settings) -> None:
    client = await _client(stack.redis_url)
    try:
        for _ in range(2):  # cancelled while connecting, then with its reply owed
            slow = asyncio.ensure_future(client.execute("ECHO", "first"))
            await asyncio.sleep(0)
            slow.cancel()
            assert await client.execute("ECHO", "second") == b"second"
    finally:
        await client.close()


async def test_a_killed_connection_fails_its_calls_and_the_next_call_reconnects(
    stack: Settings,
) -> None:
    client = await _client(stack.redis_url)
    admin = redis.Redis.from_url(stack.redis_url)
    try:
        client_id = await client.execute("CLIENT", "ID")
        blocked = asyncio.ensure_future(client.execute("BLPOP", f"none:{uuid.uuid4().hex}", 5))
        await asyncio.sleep(0.1)
        admin.client_kill_filter(_id=client_id)
        with pytest.raises(RedisConnectionError):
            await blocked
        assert await client.execute("PING") == b"PONG"
        assert await client.execute("CLIENT", "ID") != client_id
    finally:
        admin.close()
        await client.close()


@pytest.fixture
async def silent_server() -> AsyncIterator[str]:
    """Accepts connections and never answers (a hung Redis)."""
    writers: list[asyncio.StreamWriter] = []

    async def accept(_: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writers.append(writer)

    server = await asyncio.start_server(accept, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    yield f"redis://127.0.0.1:{port}/0"
    for writer in writers:
        writer.close()
    server.close()
    await server.wait_closed()


async def test_an_overdue_reply_fails_every_waiting_call_with_a_timeout(
    silent_server: str,
) -> None:
    client = await _client(silent_server, timeout_s=0.2)
    try:
        started = time.monotonic()
        results = await asyncio.gather(
            *(client.execute("PING") for _ in range(5)), return_exceptions=True
        )
        assert all(isinstance(r, RedisTimeoutError) for r in results), results
        assert 0.15 < time.monotonic() - started < 1.5
    finally:
        await client.close()


async def test_a_refused_connection_raises_connection_error() -> None:
    with socket.socket() as sock:  # a port nothing listens on once the socket is closed
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    client = await _client(f"redis://127.0.0.1:{port}/0")
    with pytest.raises(RedisConnectionError):
        await client.execute("PING")
