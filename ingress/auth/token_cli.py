"""`tessera token --sub U --role ROLE`: a development token signed with the local dev key.

Wire into the CLI with `add_token_command(subparsers)`; it sets `func` like every command.
"""

from __future__ import annotations

import argparse
import time
import uuid

import jwt

from tessera.config import Settings, load_settings

from ..config import AuthConfig
from .devkeys import ensure_dev_keys
from .principal import Role

DEFAULT_TTL_S = 15 * 60  # the seed's 15-minute tokens


def mint_token(settings: Settings, sub: str, role: str | Role, ttl_s: int = DEFAULT_TTL_S) -> str:
    key, kid = ensure_dev_keys(settings.home / "keys")
    auth = AuthConfig.from_env(settings)
    now = int(time.time())
    claims = {
        "sub": sub,
        "roles": [Role(role).value],
        "iss": auth.issuer,
        "aud": auth.audience,
        "iat": now,
        "nbf": now,
        "exp": now + ttl_s,
        "jti": uuid.uuid4().hex,
    }
    return jwt.encode(claims, key, algorithm="RS256", headers={"kid": kid})


def _cmd_token(args: argparse.Namespace) -> int:
    print(mint_token(load_settings(), args.sub, args.role, args.ttl))
    return 0


def add_token_command(subparsers: argparse._SubParsersAction) -> argparse.ArgumentParser:
    parser = subparsers.add_parser("token", help="mint a development JWT (local dev key)")
    parser.add_argument("--sub", required=True, help="subject (user id)")
    parser.add_argument("--role", required=True, choices=[r.value for r in Role])
    parser.add_argument("--ttl", type=int, default=DEFAULT_TTL_S, help="lifetime in seconds")
    parser.set_defaults(func=_cmd_token)
    return parser
