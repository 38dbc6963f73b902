"""ADMIN-only endpoints: the ingress's bearer-token verifier (RS256/ES256, iss/aud/exp, keys
from the JWKS in TESSERA_JWKS), run on a private event loop for this threaded server."""

from __future__ import annotations

import asyncio
import logging
import threading

from ingress.auth.principal import Role
from ingress.auth.verifier import Authenticator
from ingress.config import AuthConfig
from ingress.exceptions import ApiError
from tessera.config import Settings

from .exceptions import Forbidden, Unauthorized
from .metrics import ERRORS

logger = logging.getLogger(__name__)


class AdminGate:
    def __init__(self, settings: Settings, timeout_s: float = 5.0) -> None:
        self.authenticator = Authenticator(AuthConfig.from_env(settings))
        self.timeout_s = timeout_s
        self.loop = asyncio.new_event_loop()
        threading.Thread(target=self.loop.run_forever, name="ops-auth", daemon=True).start()

    def require_admin(self, authorization: str | None) -> str:
        """The caller's subject if the token is valid and carries ADMIN; 401/403 otherwise."""
        future = asyncio.run_coroutine_threadsafe(
            self.authenticator.authenticate(authorization), self.loop
        )
        try:
            principal = future.result(self.timeout_s)
        except ApiError as exc:
            ERRORS.labels("auth").inc()
            logger.warning("rejected token", extra={"code": exc.code, "status": exc.status})
            raise (Forbidden if exc.status == 403 else Unauthorized)(exc.detail) from exc
        if not principal.has(Role.ADMIN):
            ERRORS.labels("forbidden").inc()
            logger.warning("non-admin asked for an admin action", extra={"sub": principal.sub})
            raise Forbidden("the ADMIN role is required")
        return principal.sub

    def close(self) -> None:
        self.loop.call_soon_threadsafe(self.loop.stop)
