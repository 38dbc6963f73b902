"""Process-local unique tokens: unique within a process and across forked workers."""

from __future__ import annotations

import os

from ingress.ids import unique_token


def test_tokens_are_unique_in_a_process() -> None:
    tokens = {unique_token() for _ in range(10_000)}
    assert len(tokens) == 10_000


def test_a_forked_worker_draws_its_own_prefix() -> None:
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: report a token, then leave at once
        os.write(write, unique_token().encode())
        os._exit(0)
    os.close(write)
    os.waitpid(pid, 0)
    child = os.read(read, 100).decode()
    os.close(read)
    parent = unique_token()
    assert child[:16] != parent[:16]
