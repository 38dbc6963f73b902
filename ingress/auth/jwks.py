"""Signing keys by kid from a JWKS document (file path or http(s) URL), with rotation.

Keys are reloaded every `max_age_s` (so a rotated-out kid stops verifying) and when a
token names an unknown kid (a newly rotated-in key), at most once per `min_refresh_s`
so a flood of made-up kids cannot hammer the identity provider.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from pathlib import Path

import httpx
from jwt import PyJWK
from jwt.exceptions import PyJWKError

from ..config import ALLOWED_ALGORITHMS, AuthConfig
from ..metrics import JWKS_RELOADS

log = logging.getLogger(__name__)


class JwksStore:
    def __init__(self, config: AuthConfig) -> None:
        self.source = config.jwks_source
        self.max_age_s = config.jwks_max_age_s
        self.min_refresh_s = config.jwks_min_refresh_s
        self.keys: dict[str, PyJWK] = {}
        self.generation = 0  # bumped whenever the key set changes
        self._loaded_at = float("-inf")
        self._attempted_at = float("-inf")
        self._lock = asyncio.Lock()

    async def ensure_fresh(self) -> None:
        """Reload when the key set is older than max_age (retrying failures at the rate limit)."""
        now = time.monotonic()
        if now - self._loaded_at > self.max_age_s and now - self._attempted_at >= min(
            self.min_refresh_s, self.max_age_s
        ):
            await self.refresh(now)

    async def get(self, kid: str) -> PyJWK | None:
        now = time.monotonic()
        await self.ensure_fresh()
        key = self.keys.get(kid)
        if key is None and now - self._attempted_at >= self.min_refresh_s:
            await self.refresh(now)
            key = self.keys.get(kid)
        return key

    async def refresh(self, now: float | None = None) -> None:
        started = time.monotonic() if now is None else now
        async with self._lock:
            if self._attempted_at >= started:  # another request refreshed meanwhile
                return
            self._attempted_at = time.monotonic()
            try:
                document = await self._fetch()
                keys = parse_jwks(document)
            except (OSError, ValueError, httpx.HTTPError) as exc:
                JWKS_RELOADS.labels("error").inc()
                log.warning("JWKS reload failed", extra={"source": self.source, "error": str(exc)})
                return
            JWKS_RELOADS.labels("ok").inc()
            self._loaded_at = self._attempted_at
            if keys.keys() != self.keys.keys():
                self.generation += 1
            self.keys = keys

    async def _fetch(self) -> dict:
        if self.source.startswith(("https://", "http://")):
            async with httpx.AsyncClient(timeout=3.0) as client:
                response = await client.get(self.source)
                response.raise_for_status()
                return response.json()
        return json.loads(Path(self.source).read_bytes())


def parse_jwks(document: dict) -> dict[str, PyJWK]:
    """Usable signing keys by kid; keys without kid, for other uses or algorithms are skipped."""
    keys: dict[str, PyJWK] = {}
    for jwk in document.get("keys", []):
        if not isinstance(jwk, dict) or not jwk.get("kid") or jwk.get("use", "sig") != "sig":
            continue
        try:
            key = PyJWK(jwk)
        except PyJWKError as exc:
            log.warning("skipping unusable JWK", extra={"kid": jwk.get("kid"), "error": str(exc)})
            continue
        if key.algorithm_name in ALLOWED_ALGORITHMS:
            keys[jwk["kid"]] = key
    return keys
