"""Every error the ingress answers, as an exception carrying its RFC 9457 problem fields.

`code` is the machine-readable part clients switch on; `title` is stable per code,
`detail` explains this occurrence. The app turns any ApiError into application/problem+json.
"""

from __future__ import annotations


class ApiError(Exception):
    status = 500
    code = "INTERNAL"
    title = "Internal error"

    def __init__(
        self,
        detail: str = "",
        *,
        code: str | None = None,
        headers: dict[str, str] | None = None,
        field: str | None = None,
    ) -> None:
        super().__init__(detail or self.title)
        self.detail = detail or self.title
        if code is not None:
            self.code = code
        self.headers = headers or {}
        self.field = field


class BadRequest(ApiError):
    status, code, title = 400, "BAD_REQUEST", "Bad request"


class Unauthorized(ApiError):
    status, code, title = 401, "UNAUTHORIZED", "Authentication required"

    def __init__(self, detail: str = "", *, code: str = "INVALID_TOKEN") -> None:
        super().__init__(detail, code=code, headers={"WWW-Authenticate": 'Bearer realm="tessera"'})


class Forbidden(ApiError):
    status, code, title = 403, "FORBIDDEN", "Forbidden"


class NotFound(ApiError):
    status, code, title = 404, "NOT_FOUND", "Not found"


class MethodNotAllowed(ApiError):
    status, code, title = 405, "METHOD_NOT_ALLOWED", "Method not allowed"


class Conflict(ApiError):
    status, code, title = 409, "CONFLICT", "Conflict"


class PayloadTooLarge(ApiError):
    status, code, title = 413, "PAYLOAD_TOO_LARGE", "Request body too large"


class UnsupportedMediaType(ApiError):
    status, code, title = 415, "UNSUPPORTED_MEDIA_TYPE", "Unsupported media type"


class Unprocessable(ApiError):
    status, code, title = 422, "VALIDATION_FAILED", "Request validation failed"


class TooManyRequests(ApiError):
    status, code, title = 429, "RATE_LIMITED", "Too many requests"


class ServiceUnavailable(ApiError):
    status, code, title = 503, "UNAVAILABLE", "Service temporarily unavailable"

    def __init__(self, detail: str = "", *, code: str = "UNAVAILABLE") -> None:
        super().__init__(detail, code=code, headers={"Retry-After": "1"})


class BackendUnavailable(Exception):
    """Internal: a backend (Redis, Postgres, Kafka) could not answer; `backend` names it."""

    def __init__(self, backend: str, detail: str = "") -> None:
        super().__init__(f"{backend} unavailable: {detail}" if detail else f"{backend} unavailable")
        self.backend = backend

    def to_api(self) -> ServiceUnavailable:
        return ServiceUnavailable(str(self), code=f"{self.backend.upper()}_UNAVAILABLE")
