"""/openapi.json describes the API exactly as served: schemathesis against the real server."""

from __future__ import annotations

import re
import uuid

import httpx
import msgspec
import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.config import SchemathesisConfig

from ingress.openapi import render
from ingress.routes import build_routes

from .conftest import Server
from .keyring import KeyRing


@pytest.fixture(scope="module")
def admin_headers(module_keyring: KeyRing) -> dict[str, str]:
    return module_keyring.bearer("schemathesis-admin", "ADMIN", exp_in=600)


# The document is built from the route table without a server (schemathesis' lazy
# from_fixture loader does not work with pytest 9); test_served_document_is_the_generated_one
# proves the served /openapi.json is this very document.
DOCUMENT = msgspec.json.decode(render(build_routes()))
# A schema-valid cursor can still be one the server never issued: 422 INVALID_CURSOR.
CONFIG = SchemathesisConfig.from_dict(
    {
        "operations": [
            {
                "include-operation-id": "listBookings",
                "checks": {
                    "positive_data_acceptance": {
                        "expected-statuses": ["2xx", "401", "403", "422", "429"]
                    }
                },
            }
        ]
    }
)
schema = schemathesis.openapi.from_dict(DOCUMENT, config=CONFIG)
VALID_KEY = re.compile(r"[!-~]{1,255}")


@schema.parametrize()
@settings(max_examples=8, deadline=None, suppress_health_check=list(HealthCheck))
def test_api_conforms_to_its_openapi(
    case: schemathesis.Case, granian_server: Server, admin_headers: dict[str, str]
) -> None:
    # Make a valid generated Idempotency-Key unique per call: reusing one with another body
    # is a legitimate 422. Invalid (negative) keys stay as generated.
    key = (case.headers or {}).get("Idempotency-Key")
    if isinstance(key, str) and VALID_KEY.fullmatch(key):
        case.headers["Idempotency-Key"] = f"{key[:200]}-{uuid.uuid4().hex}"
    case.call_and_validate(base_url=granian_server.url, headers=admin_headers)


def test_served_document_is_the_generated_one(granian_server: Server) -> None:
    assert httpx.get(granian_server.url + "/openapi.json").json() == DOCUMENT


def test_document_covers_every_route(granian_server: Server) -> None:
    document = httpx.get(granian_server.url + "/openapi.json").json()
    operations = {(m.upper(), p) for p, item in document["paths"].items() for m in item}
    assert ("POST", "/api/v1/bookings") in operations and len(operations) == 13
    create = document["paths"]["/api/v1/bookings"]["post"]
    assert create["security"] == [{"bearerAuth": []}]
    header = next(p for p in create["parameters"] if p["name"] == "Idempotency-Key")
    assert header["required"] is True
    body = document["components"]["schemas"]["CreateBookingRequest"]
    assert body["additionalProperties"] is False and "price" not in body["properties"]
