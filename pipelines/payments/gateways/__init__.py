"""Payment gateway adapters: one contract (`base`), one module per backend, and the
resilience wrapper every backend runs behind (`resilient`, built by `factory`)."""

from .base import (
    GatewayResult,
    Operation,
    Outcome,
    PaymentGateway,
    PaymentState,
    idempotency_key,
)
from .exceptions import (
    GatewayConfigError,
    GatewayError,
    GatewayRequestError,
    GatewayUnavailableError,
)
from .factory import GatewayKind, build_gateway
from .resilient import ResilienceConfig, ResilientGateway

__all__ = [
    "GatewayConfigError",
    "GatewayError",
    "GatewayKind",
    "GatewayRequestError",
    "GatewayResult",
    "GatewayUnavailableError",
    "Operation",
    "Outcome",
    "PaymentGateway",
    "PaymentState",
    "ResilienceConfig",
    "ResilientGateway",
    "build_gateway",
    "idempotency_key",
]
