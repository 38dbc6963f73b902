"""Unique tokens (request ids, idempotency lock owners) without a syscall per request.

os.urandom is a getrandom(2) call per token; here each process draws 8 random bytes once
(again in every forked worker) and appends a counter. Tokens are unique, not secret.
"""

from __future__ import annotations

import itertools
import os

_state: tuple[str, itertools.count[int]] = ("", itertools.count())


def _reseed() -> None:
    global _state
    _state = (os.urandom(8).hex(), itertools.count())


_reseed()
os.register_at_fork(after_in_child=_reseed)


def unique_token() -> str:
    prefix, counter = _state
    return f"{prefix}{next(counter):x}"
