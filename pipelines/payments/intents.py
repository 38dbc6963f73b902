"""The payment worker's local record of each gateway call: intent before, result after.

Keyed by the command's idempotency key. A redelivered command whose result is recorded
re-emits that result without touching the gateway; one with only an intent (the process
died mid-call) calls again with the same idempotency key, which the gateway answers
with the original outcome. Losing this store loses no money either -- the gateway's
idempotency is the backstop -- it only saves calls.
"""

from __future__ import annotations

from pathlib import Path

from rocksdict import Options, Rdict

_INTENT = b"I"
_RESULT_PREFIX = b"R"


class IntentLedger:
    def __init__(self, path: Path) -> None:
        path.mkdir(parents=True, exist_ok=True)
        options = Options(raw_mode=True)
        options.create_if_missing(True)
        self._db = Rdict(str(path), options=options)

    def record_intent(self, idempotency_key: str) -> None:
        if self._db.get(idempotency_key.encode()) is None:
            self._db[idempotency_key.encode()] = _INTENT

    def record_result(self, idempotency_key: str, event: bytes) -> None:
        self._db[idempotency_key.encode()] = _RESULT_PREFIX + event

    def result_of(self, idempotency_key: str) -> bytes | None:
        value = self._db.get(idempotency_key.encode())
        if value is None or not value.startswith(_RESULT_PREFIX):
            return None
        return bytes(value[len(_RESULT_PREFIX) :])

    def close(self) -> None:
        self._db.close()
