"""The development signing key: generated on first use under $TESSERA_HOME/keys.

keys/dev-signing-key.pem is the RS256 private key (mode 0600); keys/jwks.json publishes
its public half, the ingress's default JWKS. Production points TESSERA_JWKS at the identity
provider instead and never uses this key.
"""

from __future__ import annotations

import base64
import fcntl
import hashlib
import json
import os
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from jwt.algorithms import RSAAlgorithm

PRIVATE_KEY = "dev-signing-key.pem"
JWKS_FILE = "jwks.json"


def jwk_thumbprint(jwk: dict) -> str:
    """RFC 7638 thumbprint, used as the kid."""
    members = (
        {k: jwk[k] for k in ("e", "kty", "n")}
        if jwk["kty"] == "RSA"
        else {k: jwk[k] for k in ("crv", "kty", "x", "y")}
    )
    digest = hashlib.sha256(json.dumps(members, separators=(",", ":"), sort_keys=True).encode())
    return base64.urlsafe_b64encode(digest.digest()).rstrip(b"=").decode()


def public_jwk(private_key: rsa.RSAPrivateKey) -> dict:
    jwk = RSAAlgorithm.to_jwk(private_key.public_key(), as_dict=True)
    return {**jwk, "kid": jwk_thumbprint(jwk), "alg": "RS256", "use": "sig"}


def ensure_dev_keys(key_dir: Path) -> tuple[rsa.RSAPrivateKey, str]:
    """The development private key and its kid, creating both files once (process-safe)."""
    key_dir.mkdir(parents=True, exist_ok=True)
    with open(key_dir / ".lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        pem_path = key_dir / PRIVATE_KEY
        if pem_path.exists():
            key = serialization.load_pem_private_key(pem_path.read_bytes(), password=None)
            if not isinstance(key, rsa.RSAPrivateKey):
                raise ValueError(f"{pem_path} is not an RSA key")
        else:
            key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
            pem = key.private_bytes(
                serialization.Encoding.PEM,
                serialization.PrivateFormat.PKCS8,
                serialization.NoEncryption(),
            )
            fd = os.open(pem_path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "wb") as out:
                out.write(pem)
        jwk = public_jwk(key)
        jwks_path = key_dir / JWKS_FILE
        try:
            kids = {k.get("kid") for k in json.loads(jwks_path.read_text()).get("keys", [])}
        except (OSError, ValueError):
            kids = set()
        if jwk["kid"] not in kids:
            tmp = jwks_path.with_suffix(".tmp")
            tmp.write_text(json.dumps({"keys": [jwk]}, indent=2) + "\n")
            tmp.replace(jwks_path)
        return key, jwk["kid"]
