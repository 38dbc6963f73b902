"""The ingress's Lua scripts, called by SHA over the pipelined connection.

Calls issued in the same event-loop turn leave as one write (`PipelinedRedis`), so under
load many requests' admissions (or finishes) cost one syscall and one read loop. Results
and errors stay per call, a Redis that lost its scripts (restart, failover) gets them
loaded again, and a call whose connection died is made once more.
"""

from __future__ import annotations

import hashlib
from typing import Any

from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import NoScriptError

from .resp import Arg, PipelinedRedis


class ScriptBatcher:
    def __init__(self, client: PipelinedRedis) -> None:
        self.client = client
        self._sources: dict[str, str] = {}

    def register(self, source: str) -> str:
        sha = hashlib.sha1(source.encode(), usedforsecurity=False).hexdigest()
        self._sources[sha] = source
        return sha

    async def call(self, sha: str, keys: list[Arg], args: list[Arg]) -> Any:
        try:
            return await self._evalsha(sha, keys, args)
        except RedisConnectionError:
            # The connection died under the call (Redis restarted, a dropped idle socket):
            # once more on a new one. Safe to repeat: admission takes its own lock record as
            # already claimed, and finish only sets or deletes what this request owns.
            return await self._evalsha(sha, keys, args)

    async def _evalsha(self, sha: str, keys: list[Arg], args: list[Arg]) -> Any:
        try:
            reply = self.client.submit("EVALSHA", sha, len(keys), *keys, *args)
            if reply is None:  # not connected yet
                return await self.client.execute("EVALSHA", sha, len(keys), *keys, *args)
            return await reply
        except NoScriptError:
            await self.client.execute("SCRIPT", "LOAD", self._sources[sha])
            return await self.client.execute("EVALSHA", sha, len(keys), *keys, *args)

    async def close(self) -> None:
        await self.client.close()
