"""Errors a gateway raises where a `GatewayResult` cannot carry the answer.

Money-moving calls never raise for gateway trouble: they return a FAILED result, so the
caller always has an outcome to publish. Only `status()` and construction raise these.
"""

from __future__ import annotations


class GatewayError(Exception):
    """Base class of every payment gateway error."""


class GatewayUnavailableError(GatewayError):
    """Transient: timeout, 5xx, connection trouble or an open circuit. Safe to retry."""


class GatewayRequestError(GatewayError):
    """Terminal: the gateway understood the request and refused it. Retrying cannot help."""


class GatewayConfigError(GatewayError, ValueError):
    """A gateway was built with settings that cannot work."""
