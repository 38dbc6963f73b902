"""A Redis client with an explicit, short retry policy.

redis-py 8 retries a refused connection for about 4 s by default; a sink should instead
fail fast and let the batch loop pause and back off (it keeps the batch and commits
nothing), so the client retries a few times within ~0.5 s and gives up.
"""

from __future__ import annotations

from dataclasses import dataclass

import redis
from redis.backoff import ExponentialWithJitterBackoff
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError
from redis.retry import Retry

UNAVAILABLE = (RedisConnectionError, RedisTimeoutError)


@dataclass(frozen=True)
class RedisConfig:
    url: str
    retries: int = 3
    backoff_base_s: float = 0.05
    backoff_cap_s: float = 0.25
    socket_timeout_s: float = 2.0


def connect(config: RedisConfig) -> redis.Redis:
    retry = Retry(
        ExponentialWithJitterBackoff(cap=config.backoff_cap_s, base=config.backoff_base_s),
        retries=config.retries,
        supported_errors=UNAVAILABLE,
    )
    return redis.Redis.from_url(
        config.url,
        retry=retry,
        socket_timeout=config.socket_timeout_s,
        socket_connect_timeout=config.socket_timeout_s,
        health_check_interval=30,
    )
