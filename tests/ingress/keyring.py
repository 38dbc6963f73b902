"""Test signing keys: RSA and EC keys by kid, a JWKS file, and tokens with any claims."""

from __future__ import annotations

import json
import time
import uuid
from pathlib import Path
from typing import Any

import jwt
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from jwt.algorithms import ECAlgorithm, RSAAlgorithm

from ingress.config import AuthConfig

ISSUER, AUDIENCE = "tessera-test", "tessera-api"


class KeyRing:
    def __init__(self, directory: Path) -> None:
        self.path = directory / "jwks.json"
        self.keys: dict[str, Any] = {}
        self.default_kid = self.add("rsa-1", "RS256")
        self.publish("rsa-1")

    def add(self, kid: str, alg: str) -> str:
        if alg == "RS256":
            self.keys[kid] = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        else:
            self.keys[kid] = ec.generate_private_key(ec.SECP256R1())
        return kid

    def publish(self, *kids: str) -> None:
        jwks = []
        for kid in kids:
            key = self.keys[kid]
            if isinstance(key, rsa.RSAPrivateKey):
                jwk = RSAAlgorithm.to_jwk(key.public_key(), as_dict=True)
                jwk["alg"] = "RS256"
            else:
                jwk = ECAlgorithm.to_jwk(key.public_key(), as_dict=True)
                jwk["alg"] = "ES256"
            jwks.append({**jwk, "kid": kid, "use": "sig"})
        tmp = self.path.with_suffix(".tmp")
        tmp.write_text(json.dumps({"keys": jwks}))
        tmp.replace(self.path)

    def auth_config(self, **overrides: Any) -> AuthConfig:
        values: dict[str, Any] = {
            "jwks_source": str(self.path),
            "issuer": ISSUER,
            "audience": AUDIENCE,
            "jwks_min_refresh_s": 0.0,
        }
        return AuthConfig(**{**values, **overrides})

    def token(
        self,
        sub: str,
        *roles: str,
        kid: str | None = None,
        alg: str | None = None,
        exp_in: float = 300,
        nbf_in: float = 0,
        **claims: Any,
    ) -> str:
        kid = kid or self.default_kid
        key = self.keys[kid]
        alg = alg or ("RS256" if isinstance(key, rsa.RSAPrivateKey) else "ES256")
        now = time.time()
        payload = {
            "sub": sub,
            "roles": list(roles) or ["USER"],
            "iss": ISSUER,
            "aud": AUDIENCE,
            "iat": int(now),
            "nbf": int(now + nbf_in),
            "exp": int(now + exp_in),
            "jti": uuid.uuid4().hex,
            **claims,
        }
        return jwt.encode(payload, key, algorithm=alg, headers={"kid": kid})

    def bearer(self, sub: str, *roles: str, **kwargs: Any) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token(sub, *roles, **kwargs)}"}
