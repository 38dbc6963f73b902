"""Admission repeated after a lost reply: the same request is admitted again, never blocked
by its own lock; another request with the key still finds it taken."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

import pytest
from redis.exceptions import ConnectionError as RedisConnectionError

from ingress.admission import Admitter, Hold, Outcome
from ingress.config import BackendConfig, LimitsConfig
from ingress.idempotency import IdempotencyStore
from ingress.redis_batch import ScriptBatcher
from ingress.redis_gate import RedisGate
from tessera.config import Settings

from .conftest import drop_keys

pytestmark = pytest.mark.anyio


async def test_a_repeated_admission_of_one_request_is_admitted_again(stack: Settings) -> None:
    prefix = f"t-{uuid.uuid4().hex[:10]}."
    gate = RedisGate(stack.redis_url, BackendConfig())
    limits = LimitsConfig(user_rate=1000, ip_rate=1000)
    admitter = Admitter(gate, limits, prefix, lock_ms=30_000, stale_s=600)
    store = IdempotencyStore(gate, limits, prefix, lock_ttl_s=30)
    try:
        first = store.claim("user-1", "key-1", "fingerprint")
        assert (await admitter.admit("10.0.0.1", "user-1", first)).outcome is Outcome.ADMITTED
        again = await admitter.admit("10.0.0.1", "user-1", first)  # its reply was lost
        assert again.outcome is Outcome.ADMITTED
        other = store.claim("user-1", "key-1", "fingerprint")  # a second request, same key
        taken = await admitter.admit("10.0.0.1", "user-1", other)
        assert taken.outcome is Outcome.KEY_EXISTS and taken.record == first.lock_record
    finally:
        await gate.close()
        drop_keys(stack, {prefix})


async def test_the_holds_cap_counts_only_holds_younger_than_the_hold_ttl(
    stack: Settings,
) -> None:
    prefix = f"t-{uuid.uuid4().hex[:10]}."
    gate = RedisGate(stack.redis_url, BackendConfig())
    limits = LimitsConfig(user_rate=1000, ip_rate=1000, holds_cap=2)
    admitter = Admitter(gate, limits, prefix, lock_ms=30_000, stale_s=2)
    holds_key = f"{prefix}holds:user-1"

    async def take(member: str) -> Outcome:
        admission = await admitter.admit("10.0.0.1", "user-1", hold=Hold(holds_key, member))
        return admission.outcome

    try:
        assert await take("b1") is Outcome.ADMITTED
        await asyncio.sleep(1.4)
        assert await take("b2") is Outcome.ADMITTED  # the set now lives until 3.4 s
        assert await take("b1") is Outcome.ADMITTED  # its own slot again, not a new one
        assert await take("b3") is Outcome.HOLDS_CAP
        assert sorted(await gate.client.zrange(holds_key, 0, -1)) == [b"b1", b"b2"]
        await asyncio.sleep(1.0)  # b1 is older than the hold TTL now, b2 is not
        assert await take("b3") is Outcome.ADMITTED
        assert await take("b4") is Outcome.HOLDS_CAP  # the refused one leaves nothing
        assert sorted(await gate.client.zrange(holds_key, 0, -1)) == [b"b2", b"b3"]
    finally:
        await gate.close()
        drop_keys(stack, {prefix})


class FlakyClient:
    """Fails the first call as a connection that died under it, then answers; `connected`:
    the call goes through `submit` (a live connection) rather than `execute` (connect)."""

    def __init__(self, *, connected: bool) -> None:
        self.connected = connected
        self.calls: list[tuple[Any, ...]] = []

    def submit(self, *args: Any) -> asyncio.Future[Any] | None:
        if not self.connected:
            return None
        future = asyncio.get_running_loop().create_future()
        self.calls.append(args)
        if len(self.calls) == 1:
            future.set_exception(RedisConnectionError("Redis connection lost"))
        else:
            future.set_result(b"ok")
        return future

    async def execute(self, *args: Any) -> Any:
        self.calls.append(args)
        if len(self.calls) == 1:
            raise RedisConnectionError("Redis connection lost")
        return b"ok"

    async def close(self) -> None:
        return None


@pytest.mark.parametrize("connected", [True, False], ids=["submitted", "connecting"])
async def test_a_call_whose_connection_died_is_made_once_more(connected: bool) -> None:
    client = FlakyClient(connected=connected)
    batcher = ScriptBatcher(client)  # type: ignore[arg-type]
    sha = batcher.register("return 'ok'")
    assert await batcher.call(sha, ["k"], ["a"]) == b"ok"
    assert client.calls == [("EVALSHA", sha, 1, "k", "a")] * 2
