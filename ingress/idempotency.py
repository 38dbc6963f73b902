"""Idempotency keys in Redis: 24 h, scoped per caller (JWT sub).

The first request with a key claims it during admission (a lock record carrying the
request's fingerprint and a TTL covering the slowest handler), runs, and then replaces
the lock with the stored response, in the same pipeline as the handler's own writes.
A later request with the same key and fingerprint gets that stored status and body back;
a different fingerprint gets 422. A duplicate arriving while the first runs waits for
its result, so 50 concurrent requests with one key produce exactly one command.
Transient outcomes (429, 5xx) are not stored: the lock is released so the client can
retry with the same key, and a create's hold is given back unless the answer was 2xx.
"""

from __future__ import annotations

import hashlib
import logging

import msgspec

from .admission import Claim, Hold
from .config import LimitsConfig
from .exceptions import Unprocessable
from .http import HttpResponse
from .ids import unique_token
from .lua import FINISH
from .metrics import IDEMPOTENCY_OUTCOMES
from .redis_gate import RedisGate

log = logging.getLogger(__name__)
_STORED_HEADERS = ("Location",)


class Record(msgspec.Struct, array_like=True):
    fingerprint: str
    owner: str  # the lock holder's token; empty once the response is stored
    status: int = 0
    content_type: str = ""
    headers: dict[str, str] = {}
    body: bytes = b""


_encode = msgspec.msgpack.Encoder().encode
_decode = msgspec.msgpack.Decoder(Record).decode


def fingerprint(route: str, path: str, canonical_body: bytes) -> str:
    digest = hashlib.sha256(b"%s\0%s\0%s" % (route.encode(), path.encode(), canonical_body))
    return digest.hexdigest()


class IdempotencyStore:
    def __init__(self, gate: RedisGate, limits: LimitsConfig, prefix: str, lock_ttl_s: float):
        self.gate, self.prefix = gate, prefix
        self.ttl_s = limits.idempotency_ttl_s
        self.lock_ms = int(lock_ttl_s * 1000)
        self.wait_s = max(limits.idempotency_wait_s, lock_ttl_s)
        self._finish_sha = gate.scripts.register(FINISH)
        self._guard = gate.guard("idempotency")

    def claim(self, principal: str, idempotency_key: str, fp: str) -> Claim:
        digest = hashlib.sha256(f"{principal}\n{idempotency_key}".encode()).hexdigest()
        owner = unique_token()
        key = f"{self.prefix}tessera:idem:{digest}"
        return Claim(key, _encode(Record(fp, owner)), fp, owner)

    @staticmethod
    def existing(raw: bytes | None, fp: str) -> HttpResponse | None:
        """The stored response for a replay; None while the first request still runs."""
        if raw is None:
            return None
        record = _decode(raw)
        if record.fingerprint != fp:
            IDEMPOTENCY_OUTCOMES["mismatch"].inc()
            raise Unprocessable(
                "this Idempotency-Key was used with a different request",
                code="IDEMPOTENCY_KEY_REUSED",
            )
        if record.owner:
            return None
        IDEMPOTENCY_OUTCOMES["replayed"].inc()
        headers = {**record.headers, "Idempotent-Replayed": "true"}
        return HttpResponse(record.status, record.body, record.content_type, headers)

    async def finish(
        self,
        claim: Claim,
        response: HttpResponse | None,
        hold: Hold | None,
        writes: list[tuple[str, bytes, int]],
    ) -> None:
        """Store the response (or release the lock) with the handler's writes, one round trip.

        response None: the handler crashed. Failures are counted, never raised: the command
        (if any) is already in Kafka and a retry re-derives the same ids."""
        keep = response is not None and response.status != 429 and response.status < 500
        record = b""
        if keep and response is not None:
            headers = {k: v for k, v in response.headers.items() if k in _STORED_HEADERS}
            record = _encode(
                Record(claim.fingerprint, "", response.status, response.content_type, headers,
                       response.body)
            )  # fmt: skip
        give_back = hold is not None and (response is None or response.status >= 300)
        keys = [claim.key, hold.key if hold else "", *(key for key, _, _ in writes)]
        args: list[str | bytes | int] = [
            "store" if keep else "release", claim.owner, record, self.ttl_s,
            hold.member if hold else "", "1" if give_back else "0",
        ]  # fmt: skip
        for _, value, ttl in writes:
            args += [value, ttl]
        try:
            with self._guard:
                await self.gate.scripts.call(self._finish_sha, keys, args)
            IDEMPOTENCY_OUTCOMES["stored" if keep else "released"].inc()
        except Exception as exc:  # the lock expires on its own; the hold ages out
            IDEMPOTENCY_OUTCOMES["finish_failed"].inc()
            log.warning(
                "idempotency record not stored; the lock expires on its own",
                extra={"key": claim.key, "status": response.status if response else None,
                       "error": repr(exc)},
            )  # fmt: skip
