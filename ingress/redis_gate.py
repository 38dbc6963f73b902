"""The Redis client with an explicit failure policy, and a guard that maps failures.

redis-py's default retries a refused connection for seconds; here a call gets one quick
retry with short socket timeouts, and after a connection failure Redis is considered
down for `redis_down_for_s` so requests fail (or fall back) at once instead of queueing
on a dead socket. Callers wrap each call in `with gate.guard("operation"):`.
"""

from __future__ import annotations

import time
from types import TracebackType

import redis.asyncio as aioredis
from redis.asyncio.retry import Retry
from redis.backoff import ExponentialBackoff
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import RedisError
from redis.exceptions import TimeoutError as RedisTimeoutError

from .config import BackendConfig
from .exceptions import BackendUnavailable
from .metrics import BACKEND_FAILURES
from .redis_batch import ScriptBatcher
from .resp import PipelinedRedis

_CONNECTIVITY = (RedisConnectionError, RedisTimeoutError, OSError)


class RedisGate:
    def __init__(self, url: str, config: BackendConfig) -> None:
        self.config = config
        # The plain pool (a blocking pool costs a timer per checkout, a fifth of the hot
        # path): sized well above the concurrency one worker sustains; beyond it a request
        # fails with 503 rather than queueing.
        pool = aioredis.ConnectionPool.from_url(
            url,
            max_connections=config.redis_max_connections,
            socket_timeout=config.redis_socket_timeout_s,
            socket_connect_timeout=config.redis_connect_timeout_s,
            retry=Retry(ExponentialBackoff(cap=0.05, base=0.01), config.redis_retries),
        )
        self.client = aioredis.Redis(connection_pool=pool)
        self.scripts = ScriptBatcher(
            PipelinedRedis(
                url,
                socket_timeout_s=config.redis_socket_timeout_s,
                connect_timeout_s=config.redis_connect_timeout_s,
            )
        )
        self.down_until = 0.0
        self._guards: dict[str, _Guard] = {}

    def guard(self, operation: str) -> _Guard:
        guard = self._guards.get(operation)
        if guard is None:
            guard = self._guards[operation] = _Guard(self, operation)
        return guard

    @property
    def available(self) -> bool:
        return time.monotonic() >= self.down_until

    async def close(self) -> None:
        await self.scripts.close()
        await self.client.aclose()
        await self.client.connection_pool.disconnect()


class _Guard:
    __slots__ = ("gate", "operation", "_failures")

    def __init__(self, gate: RedisGate, operation: str) -> None:
        self.gate, self.operation = gate, operation
        self._failures = BACKEND_FAILURES.labels("redis", operation)

    def __enter__(self) -> None:
        if time.monotonic() < self.gate.down_until:
            self._failures.inc()
            raise BackendUnavailable("redis", "marked down after a recent connection failure")

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        if exc is None or not isinstance(exc, RedisError | OSError):
            return
        self._failures.inc()
        if isinstance(exc, _CONNECTIVITY) and "Too many connections" not in str(exc):
            self.gate.down_until = time.monotonic() + self.gate.config.redis_down_for_s
        raise BackendUnavailable("redis", str(exc)) from exc
