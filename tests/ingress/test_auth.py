"""The JWT matrix: only RS256/ES256 from the JWKS, claims checked, keys rotated by kid."""

from __future__ import annotations

import asyncio
import base64
import json
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives import serialization

from ingress.auth.token_cli import mint_token
from ingress.config import IngressConfig

from .conftest import uid
from .keyring import AUDIENCE, ISSUER

pytestmark = pytest.mark.anyio
LIST = "/api/v1/bookings"


def b64(data: dict[str, Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()


def claims(sub: str = "u1", **extra: Any) -> dict[str, Any]:
    import time

    now = int(time.time())
    return {
        "sub": sub,
        "roles": ["USER"],
        "iss": ISSUER,
        "aud": AUDIENCE,
        "iat": now,
        "nbf": now,
        "exp": now + 300,
        **extra,
    }


async def status_of(h: Any, token: str) -> tuple[int, str]:
    response = await h.client.get(LIST, headers={"Authorization": f"Bearer {token}"})
    code = response.json().get("code", "") if response.status_code != 200 else ""
    return response.status_code, code


async def test_valid_rs256_and_es256_tokens_are_accepted(ingress: Any) -> None:
    h = await ingress()
    h.keys.add("ec-1", "ES256")
    h.keys.publish("rsa-1", "ec-1")
    assert await status_of(h, h.keys.token(uid("u"))) == (200, "")
    assert await status_of(h, h.keys.token(uid("u"), kid="ec-1")) == (200, "")


async def test_rejected_tokens(ingress: Any) -> None:
    h = await ingress()
    keys = h.keys
    public_pem = (
        keys.keys["rsa-1"]
        .public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    )
    hs256 = "{}.{}".format(b64({"alg": "HS256", "typ": "JWT", "kid": "rsa-1"}), b64(claims()))
    import hashlib
    import hmac

    mac = hmac.new(public_pem, hs256.encode(), hashlib.sha256).digest()
    hs256_forged = hs256 + "." + base64.urlsafe_b64encode(mac).rstrip(b"=").decode()
    none_token = "{}.{}.".format(b64({"alg": "none", "typ": "JWT", "kid": "rsa-1"}), b64(claims()))
    keys.add("ec-2", "ES256")
    keys.publish("rsa-1", "ec-2")
    ec_key_rs_header = jwt.encode(
        claims(), keys.keys["rsa-1"], algorithm="RS256", headers={"kid": "ec-2"}
    )
    keys.add("never-published", "RS256")
    cases = {
        "alg none": none_token,
        "HS256 signed with the public key": hs256_forged,
        "expired": keys.token("u1", exp_in=-60),
        "future nbf": keys.token("u1", nbf_in=120),
        "wrong aud": keys.token("u1", aud="someone-else"),
        "wrong iss": keys.token("u1", iss="https://evil.example"),
        "unknown kid": keys.token("u1", kid="never-published"),
        "RS256 header on an EC key": ec_key_rs_header,
        "no sub": jwt.encode(
            {k: v for k, v in claims().items() if k != "sub"},
            keys.keys["rsa-1"],
            algorithm="RS256",
            headers={"kid": "rsa-1"},
        ),
        "garbage": "not.a.jwt",
        "tampered": keys.token("u1")[:-4] + "AAAA",
    }
    for name, token in cases.items():
        status, code = await status_of(h, token)
        assert status == 401, f"{name}: {status} {code}"
        assert code in {"INVALID_TOKEN", "TOKEN_EXPIRED"}, name
    missing = await h.client.get(LIST)
    assert missing.status_code == 401 and missing.json()["code"] == "MISSING_TOKEN"
    assert missing.headers["www-authenticate"].startswith("Bearer")
    no_role = keys.token("u1", roles=["ROOT"])
    assert await status_of(h, no_role) == (403, "NO_ROLE")


async def test_rotation_by_kid(ingress: Any) -> None:
    h = await ingress(auth={"jwks_max_age_s": 0.3})
    keys = h.keys
    old = keys.token(uid("u"))
    assert (await status_of(h, old))[0] == 200  # verified and cached
    keys.add("rsa-2", "RS256")
    keys.publish("rsa-1", "rsa-2")  # rotated in
    new = keys.token(uid("u"), kid="rsa-2")
    assert (await status_of(h, new))[0] == 200  # unknown kid: JWKS reloaded at once
    keys.publish("rsa-2")  # rsa-1 rotated out
    await asyncio.sleep(0.4)
    assert await status_of(h, old) == (401, "INVALID_TOKEN")  # even though it was cached
    assert (await status_of(h, new))[0] == 200


async def test_unknown_kid_reloads_are_rate_limited(ingress: Any) -> None:
    h = await ingress(auth={"jwks_min_refresh_s": 60.0})
    store = h.app.services.auth.jwks
    h.keys.add("rsa-9", "RS256")
    for _ in range(20):
        assert (await status_of(h, h.keys.token("u1", kid="rsa-9")))[0] == 401
    generation = store.generation
    h.keys.publish("rsa-1", "rsa-9")
    assert (await status_of(h, h.keys.token("u1", kid="rsa-9")))[0] == 401  # not before 60 s
    assert store.generation == generation


async def test_dev_token_cli_signs_with_the_local_dev_key(
    ingress: Any, isolated_settings: Any, tmp_path: Any
) -> None:
    import argparse
    import dataclasses

    settings = dataclasses.replace(isolated_settings(), home=tmp_path / "home")
    token = mint_token(settings, "dev-user", "SUPPORT", 60)
    config = IngressConfig.from_env(settings)
    assert config.auth.jwks_source == str(settings.home / "keys" / "jwks.json")
    h = await ingress(
        settings=settings,
        auth={
            "jwks_source": config.auth.jwks_source,
            "issuer": config.auth.issuer,
            "audience": config.auth.audience,
        },
    )
    assert (await status_of(h, token))[0] == 200
    assert (settings.home / "keys" / "dev-signing-key.pem").stat().st_mode & 0o777 == 0o600

    from ingress.auth.token_cli import add_token_command

    parser = argparse.ArgumentParser()
    add_token_command(parser.add_subparsers(dest="command"))
    args = parser.parse_args(["token", "--sub", "u", "--role", "ADMIN", "--ttl", "30"])
    assert args.func.__name__ == "_cmd_token" and args.role == "ADMIN"


async def test_jwks_from_a_url(ingress: Any) -> None:
    import functools
    import http.server
    import threading

    h0 = await ingress()  # only for its keyring's JWKS file
    directory = str(h0.keys.path.parent)
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=directory)
    handler.log_message = lambda *args: None  # type: ignore[method-assign]
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        url = f"http://127.0.0.1:{server.server_address[1]}/{h0.keys.path.name}"
        h = await ingress(auth={"jwks_source": url})
        assert (await status_of(h, h.keys.token(uid("u"))))[0] == 200
        h.keys.add("unpublished", "RS256")
        assert (await status_of(h, h.keys.token(uid("u"), kid="unpublished")))[0] == 401
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)
