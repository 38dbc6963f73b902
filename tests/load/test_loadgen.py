"""The open-loop generator and its lean HTTP client, against a local asyncio server."""

from __future__ import annotations

import asyncio

import uvloop

from load.loadgen import HttpPool, build_request, open_loop


async def _server(close_every: int = 0) -> tuple[asyncio.Server, int]:
    """Answers every request with its own path as the body; closes after `close_every`."""

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        served = 0
        try:
            while True:
                try:
                    head = await reader.readuntil(b"\r\n\r\n")
                except asyncio.IncompleteReadError:  # the client closed its connection
                    return
                length = 0
                for line in head.split(b"\r\n"):
                    if line.lower().startswith(b"content-length:"):
                        length = int(line.split(b":")[1])
                await reader.readexactly(length)
                path = head.split(b" ")[1]
                served += 1
                close = close_every and served % close_every == 0
                writer.write(
                    b"HTTP/1.1 202 Accepted\r\nContent-Length: %d\r\n%s\r\n%s"
                    % (len(path), b"Connection: close\r\n" if close else b"", path)
                )
                await writer.drain()
                if close:
                    return
        finally:
            # closed here, not left to the writer's finalizer: CPython 3.11.2 (Debian's) has
            # none, and uvloop refuses to close a loop with a transport still open
            writer.close()

    server = await asyncio.start_server(handle, "127.0.0.1", 0)
    return server, server.sockets[0].getsockname()[1]


def test_open_loop_fires_at_the_rate_and_measures_each_request() -> None:
    async def run() -> tuple[list[tuple[int, bytes]], float, int]:
        server, port = await _server(close_every=7)
        pool = HttpPool("127.0.0.1", port, max_connections=8)
        answers: list[tuple[int, bytes]] = []

        async def fire(i: int, _due: float) -> None:
            raw = build_request("POST", f"/r/{i}", pool.host_header, {"X-A": "1"}, b"{}")
            answers.append(await pool.request(raw, timeout_s=5))

        schedule, tasks = await open_loop(200, 1.0, fire)
        await asyncio.gather(*tasks)
        pool.close()
        server.close()
        return answers, max(schedule.lags), schedule.fired

    answers, worst_lag, fired = uvloop.run(run())
    assert fired == 200
    assert sorted(int(body.split(b"/")[-1]) for _, body in answers) == list(range(200))
    assert {status for status, _ in answers} == {202}
    assert worst_lag < 0.2


def test_should_stop_ends_the_schedule_early() -> None:
    async def run() -> int:
        async def fire(_i: int, _due: float) -> None:
            return None

        schedule, _ = await open_loop(100, 10.0, fire, should_stop=lambda elapsed: elapsed > 0.3)
        assert schedule.stopped_early
        return schedule.fired

    assert 20 < uvloop.run(run()) < 60
