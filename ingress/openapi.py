"""/openapi.json, generated from the route table and the msgspec Structs the app enforces."""

from __future__ import annotations

from typing import Any

import msgspec

from .http import PROBLEM_JSON
from .models import _NO_CONTROL, Problem
from .router import Route

COMMON_ERRORS = {
    400: "Malformed request (code says which part)",
    401: "Missing, malformed, expired or untrusted token",
    403: "The caller's role may not do this, or set this field",
    413: "Request body larger than the limit",
    415: "Body is not application/json",
    422: "Request body or query failed validation",
    429: "Rate limit or open-holds cap reached (Retry-After, RateLimit-* headers)",
    503: "A backend (Redis, Kafka, Postgres) is unavailable; retry after Retry-After",
}
ROUTE_ERRORS = {
    404: "Not found, or not visible to the caller",
    409: "Conflicts with the current state",
}
ID_SCHEMA = {"type": "string", "minLength": 1, "maxLength": 128, "pattern": _NO_CONTROL}
IDEMPOTENCY_KEY_SCHEMA = {"type": "string", "minLength": 1, "maxLength": 255, "pattern": "^[!-~]+$"}
_REF = "#/components/schemas/{name}"


def build_openapi(routes: list[Route], title: str = "Tessera ingress") -> dict[str, Any]:
    used = {t for r in routes for t in (r.body, r.query, r.ok[1]) if t is not None}
    used |= {e[1] for r in routes for e in r.errors if isinstance(e, tuple)}
    types = [Problem, *sorted(used - {Problem}, key=lambda t: t.__name__)]
    refs, components = msgspec.json.schema_components(types, ref_template=_REF)
    ref_of = dict(zip(types, refs, strict=True))
    paths: dict[str, dict[str, Any]] = {}
    for route in routes:
        paths.setdefault(route.path, {})[route.method.lower()] = _operation(
            route, ref_of, components
        )
    return {
        "openapi": "3.1.0",
        "info": {"title": title, "version": "1.0.0"},
        "paths": paths,
        "components": {
            "schemas": components,
            "securitySchemes": {
                "bearerAuth": {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"}
            },
        },
    }


def _operation(route: Route, ref_of: dict, components: dict) -> dict[str, Any]:
    op: dict[str, Any] = {"operationId": route.name, "summary": route.summary, "tags": [route.tag]}
    if route.description:
        op["description"] = route.description
    params = [
        {"name": n, "in": "path", "required": True, "schema": ID_SCHEMA} for n in route.params
    ]
    if route.query is not None:
        schema = components[route.query.__name__]
        required = set(schema.get("required", ()))
        for name, prop in schema["properties"].items():
            params.append(
                {
                    "name": name,
                    "in": "query",
                    "required": name in required,
                    "schema": _not_null(prop),
                }
            )
    if route.idempotency is not None:
        params.append({
            "name": "Idempotency-Key", "in": "header", "required": route.idempotency == "required",
            "schema": IDEMPOTENCY_KEY_SCHEMA,
            "description": "Same key + same body: the stored response; different body: 422. 24 h.",
        })  # fmt: skip
    if params:
        op["parameters"] = params
    if route.body is not None:
        op["requestBody"] = {
            "required": route.body_required,
            "content": {"application/json": {"schema": ref_of[route.body]}},
        }
    status, ok_type, description = route.ok
    schema = ref_of[ok_type] if ok_type is not None else {"type": "string"}
    if route.name == "openapi":
        schema = {"type": "object"}
    success: dict[str, Any] = {
        "description": description,
        "content": {route.content_type: {"schema": schema}},
    }
    if status == 202:
        success["headers"] = {"Location": {"schema": {"type": "string"}, "required": True}}
    responses: dict[str, Any] = {str(status): success}
    errors: dict[int, tuple[str, str, Any]] = {}
    if route.roles is not None:
        errors = {s: (d, PROBLEM_JSON, Problem) for s, d in COMMON_ERRORS.items()}
    if route.params:  # an id that cannot exist (or is not the caller's) is not found
        errors[404] = (ROUTE_ERRORS[404], PROBLEM_JSON, Problem)
    for entry in route.errors:
        if isinstance(entry, tuple):  # (status, body type, description): not a problem body
            errors[entry[0]] = (entry[2], "application/json", entry[1])
        else:
            errors[entry] = (ROUTE_ERRORS.get(entry, "Error"), PROBLEM_JSON, Problem)
    for code in sorted(errors):
        text, media, body_type = errors[code]
        responses[str(code)] = {
            "description": text,
            "content": {media: {"schema": ref_of[body_type]}},
        }
    op["responses"] = responses
    op["security"] = [{"bearerAuth": []}] if route.roles is not None else []
    if route.roles is not None:
        roles = ", ".join(sorted(route.roles))
        op["description"] = f"{op.get('description', '')}\n\nRoles: {roles}.".strip()
    return op


def _not_null(schema: dict[str, Any]) -> dict[str, Any]:
    """A query parameter is absent rather than null: drop the null branch of optionals."""
    schema = {k: v for k, v in schema.items() if not (k == "default" and v is None)}
    options = schema.get("anyOf")
    if options is None:
        return schema
    rest = [o for o in options if o.get("type") != "null"]
    merged = dict(rest[0]) if len(rest) == 1 else {"anyOf": rest}
    return {**{k: v for k, v in schema.items() if k != "anyOf"}, **merged}


def render(routes: list[Route]) -> bytes:
    return msgspec.json.encode(build_openapi(routes))
