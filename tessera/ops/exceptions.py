"""Every error the ops process answers or logs, with the HTTP status it maps to."""

from __future__ import annotations


class OpsError(Exception):
    status = 500
    code = "OPS_ERROR"


class BadRequest(OpsError):
    status, code = 400, "BAD_REQUEST"


class Unauthorized(OpsError):
    status, code = 401, "UNAUTHORIZED"


class Forbidden(OpsError):
    status, code = 403, "FORBIDDEN"


class NotFound(OpsError):
    status, code = 404, "NOT_FOUND"


class BackendUnavailable(OpsError):
    """Kafka or PostgreSQL did not answer in time: the page shows it, /metrics counts it."""

    status, code = 503, "BACKEND_UNAVAILABLE"


class ReplayError(OpsError):
    status, code = 409, "REPLAY_FAILED"
