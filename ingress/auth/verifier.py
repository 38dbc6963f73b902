"""Bearer-token verification: JWT with RS256/ES256 only, exp/nbf/iss/aud/sub required.

The algorithm list is fixed (config.ALLOWED_ALGORITHMS) and must also match the key's
own type, so alg=none, HS256 signed with a public key, or an RSA kid with an EC alg all
fail. Verified tokens are cached until their exp; the cache is emptied whenever the key
set changes, so a rotated-out kid stops working on the next reload.
"""

from __future__ import annotations

import time

import jwt

from ..config import ALLOWED_ALGORITHMS, AuthConfig
from ..exceptions import Forbidden, Unauthorized
from ..metrics import AUTH_FAILURES
from .jwks import JwksStore
from .principal import Principal, Role

_ROLE_NAMES = {role.value: role for role in Role}


class Authenticator:
    def __init__(self, config: AuthConfig, jwks: JwksStore | None = None) -> None:
        self.config = config
        self.jwks = jwks or JwksStore(config)
        self._cache: dict[str, Principal] = {}
        self._generation = -1

    async def authenticate(self, authorization: str | None) -> Principal:
        if not authorization or not authorization[:7].lower() == "bearer ":
            raise self._fail("missing", "a Bearer token is required", code="MISSING_TOKEN")
        token = authorization[7:].strip()
        await self.jwks.ensure_fresh()
        if self._generation != self.jwks.generation:
            self._cache.clear()
            self._generation = self.jwks.generation
        principal = self._cache.get(token)
        if principal is not None:
            if principal.expires_at + self.config.leeway_s > time.time():
                return principal
            del self._cache[token]
        principal = await self._verify(token)
        if self._generation == self.jwks.generation:
            if len(self._cache) >= self.config.token_cache_size:
                self._cache.clear()
            self._cache[token] = principal
        return principal

    async def _verify(self, token: str) -> Principal:
        try:
            header = jwt.get_unverified_header(token)
        except jwt.PyJWTError as exc:
            raise self._fail("malformed", f"malformed token: {exc}") from exc
        alg, kid = header.get("alg"), header.get("kid")
        if alg not in ALLOWED_ALGORITHMS:
            raise self._fail("algorithm", f"algorithm {alg!r} is not accepted")
        if not isinstance(kid, str) or not kid:
            raise self._fail("kid", "token has no kid")
        key = await self.jwks.get(kid)
        if key is None:
            raise self._fail("unknown_kid", f"unknown signing key {kid!r}")
        if key.algorithm_name != alg:
            raise self._fail("algorithm", f"key {kid!r} is not an {alg} key")
        try:
            claims = jwt.decode(
                token,
                key.key,
                algorithms=[alg],
                audience=self.config.audience,
                issuer=self.config.issuer,
                leeway=self.config.leeway_s,
                options={"require": ["exp", "iss", "aud", "sub"]},
            )
        except jwt.ExpiredSignatureError as exc:
            raise self._fail("expired", "token expired", code="TOKEN_EXPIRED") from exc
        except jwt.PyJWTError as exc:
            raise self._fail("invalid", f"invalid token: {exc}") from exc
        sub = claims["sub"]
        if not isinstance(sub, str) or not 0 < len(sub) <= 128 or not sub.isprintable():
            raise self._fail("invalid", "invalid sub claim")
        raw = claims.get("roles", claims.get("role", []))
        names = [raw] if isinstance(raw, str) else raw if isinstance(raw, list) else []
        roles = frozenset(_ROLE_NAMES[n] for n in names if isinstance(n, str) and n in _ROLE_NAMES)
        if not roles:
            AUTH_FAILURES.labels("no_role").inc()
            raise Forbidden("the token carries no Tessera role", code="NO_ROLE")
        return Principal(sub=sub, roles=roles, expires_at=float(claims["exp"]))

    @staticmethod
    def _fail(reason: str, detail: str, *, code: str = "INVALID_TOKEN") -> Unauthorized:
        AUTH_FAILURES.labels(reason).inc()
        return Unauthorized(detail, code=code)
