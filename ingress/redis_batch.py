"""EVALSHA calls issued in the same event-loop turn, sent to Redis as one pipeline.

Under load many requests reach admission (or finish) together; one pipelined round trip
for all of them costs one connection checkout, one write and one read loop instead of
one each, which is most of the Redis client's CPU per request. A call waits at most one
loop turn longer. Results and errors stay per call (raise_on_error=False), and a Redis
that lost its scripts (restart, failover) gets them loaded again once.
"""

from __future__ import annotations

import asyncio
import hashlib
from typing import Any

from redis.exceptions import NoScriptError

_MAX_BATCH = 512


class ScriptBatcher:
    def __init__(self, client: Any) -> None:
        self.client = client
        self._sources: dict[str, str] = {}
        self._pending: list[tuple[str, list[Any], asyncio.Future[Any]]] = []
        self._scheduled = False
        self._tasks: set[asyncio.Task[None]] = set()

    def register(self, source: str) -> str:
        sha = hashlib.sha1(source.encode(), usedforsecurity=False).hexdigest()
        self._sources[sha] = source
        return sha

    async def call(self, sha: str, keys: list[Any], args: list[Any]) -> Any:
        future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        self._pending.append((sha, [len(keys), *keys, *args], future))
        if not self._scheduled:
            self._scheduled = True
            asyncio.get_running_loop().call_soon(self._flush)
        return await future

    def _flush(self) -> None:
        self._scheduled = False
        while self._pending:
            batch, self._pending = self._pending[:_MAX_BATCH], self._pending[_MAX_BATCH:]
            task = asyncio.ensure_future(self._run(batch))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)

    async def _run(self, batch: list[tuple[str, list[Any], asyncio.Future[Any]]]) -> None:
        try:
            results = await self._execute(batch)
            missing = [i for i, r in enumerate(results) if isinstance(r, NoScriptError)]
            if missing:
                for sha in {batch[i][0] for i in missing}:
                    await self.client.script_load(self._sources[sha])
                again = await self._execute([batch[i] for i in missing])
                for i, result in zip(missing, again, strict=True):
                    results[i] = result
        except BaseException as exc:  # connection trouble: every call in the batch fails
            for _, _, future in batch:
                if not future.done():
                    future.set_exception(exc)
            if not isinstance(exc, Exception):
                raise
            return
        for (_, _, future), result in zip(batch, results, strict=True):
            if future.done():
                continue
            if isinstance(result, Exception):
                future.set_exception(result)
            else:
                future.set_result(result)

    async def _execute(self, batch: list[tuple[str, list[Any], asyncio.Future[Any]]]) -> list[Any]:
        async with self.client.pipeline(transaction=False) as pipe:
            for sha, args, _ in batch:
                pipe.evalsha(sha, *args)
            return list(await pipe.execute(raise_on_error=False))

    async def close(self) -> None:
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
