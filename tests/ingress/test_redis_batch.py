"""The script caller: EVALSHA by SHA, per-call errors, scripts loaded again when missing."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

import pytest
from redis.exceptions import ResponseError

from ingress.redis_batch import ScriptBatcher
from ingress.resp import PipelinedRedis
from tessera.config import Settings

pytestmark = pytest.mark.anyio


async def test_batches_calls_and_loads_unknown_scripts(stack: Settings) -> None:
    batcher = ScriptBatcher(
        PipelinedRedis(stack.redis_url, socket_timeout_s=2, connect_timeout_s=2)
    )
    try:
        # a script Redis has never seen: the first calls get NOSCRIPT and load it
        echo = batcher.register(f"-- {uuid.uuid4().hex}\nreturn {{KEYS[1], ARGV[1]}}")
        failing = batcher.register(f"-- {uuid.uuid4().hex}\nreturn redis.error_reply('nope')")
        calls: list[Any] = [batcher.call(echo, [f"k{i}"], [str(i)]) for i in range(50)]
        calls.append(batcher.call(failing, [], []))
        results = await asyncio.gather(*calls, return_exceptions=True)
        assert results[:50] == [[f"k{i}".encode(), str(i).encode()] for i in range(50)]
        assert isinstance(results[50], ResponseError) and "nope" in str(results[50])
    finally:
        await batcher.close()
