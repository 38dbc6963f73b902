"""Redis housekeeping around the ingress bench: rewrites deferred and given back, rounds
started from the run's keys dropped (and nobody else's)."""

from __future__ import annotations

import pytest
import redis

from load.bench_redis import REWRITE_SETTING, rewrites_deferred, wait_for_rewrite
from load.system_harness import delete_prefixed_keys
from tessera.config import Settings
from tests.conftest import unique


def test_rewrites_wait_for_the_block_and_the_setting_comes_back(stack: Settings) -> None:
    client = redis.Redis.from_url(stack.redis_url)
    wait_for_rewrite(client)
    before = client.config_get(REWRITE_SETTING)[REWRITE_SETTING]
    rewrites = client.info("persistence")["aof_rewrites"]
    with rewrites_deferred(stack.redis_url):
        assert client.config_get(REWRITE_SETTING)[REWRITE_SETTING] == "0"
    assert client.config_get(REWRITE_SETTING)[REWRITE_SETTING] == before
    wait_for_rewrite(client)
    persistence = client.info("persistence")
    assert persistence["aof_enabled"] == 1  # the stack's Redis appends every write
    assert persistence["aof_rewrites"] == rewrites + 1  # one rewrite compacts the run's AOF
    client.close()


def test_the_setting_comes_back_when_the_block_fails(stack: Settings) -> None:
    client = redis.Redis.from_url(stack.redis_url)
    before = client.config_get(REWRITE_SETTING)[REWRITE_SETTING]
    with pytest.raises(RuntimeError), rewrites_deferred(stack.redis_url):
        raise RuntimeError("the bench failed")
    assert client.config_get(REWRITE_SETTING)[REWRITE_SETTING] == before
    wait_for_rewrite(client)
    client.close()


def test_a_round_starts_with_the_runs_keys_dropped_and_nobody_elses(stack: Settings) -> None:
    run, other = unique("bench") + ".", unique("other") + "."
    client = redis.Redis.from_url(stack.redis_url)
    client.set(run + "tessera:idem:a", b"1")
    client.set(run + "tessera:accepted:b", b"2")
    client.set(other + "tessera:idem:a", b"3")
    try:
        assert delete_prefixed_keys(stack.redis_url, run) == 2
        assert client.exists(run + "tessera:idem:a", run + "tessera:accepted:b") == 0
        assert client.get(other + "tessera:idem:a") == b"3"
    finally:
        client.delete(other + "tessera:idem:a")
        client.close()
