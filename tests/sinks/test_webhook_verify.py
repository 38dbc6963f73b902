"""The partner-side verification helper: HMAC-SHA256 over f"{timestamp}.{body}"."""

from __future__ import annotations

import hashlib
import hmac

import pytest

from sinks.exceptions import SignatureError
from sinks.notifications.webhook_verify import sign, verify

SECRET = "whsec_test"
BODY = b'{"id":"bk-1:2:webhook","type":"booking.confirmed"}'
NOW = 1_767_225_600


def test_a_signed_body_verifies_and_the_signature_is_the_documented_hmac() -> None:
    header = sign(SECRET, BODY, timestamp=NOW)
    expected = hmac.new(SECRET.encode(), f"{NOW}.".encode() + BODY, hashlib.sha256).hexdigest()
    assert header == f"t={NOW},v1={expected}"
    assert verify(SECRET, header, BODY, now=NOW + 10) == NOW


@pytest.mark.parametrize(
    ("header", "body", "secret", "now", "error"),
    [
        (None, BODY, SECRET, NOW, "missing"),
        ("v1=abc", BODY, SECRET, NOW, "malformed"),
        (f"t={NOW}", BODY, SECRET, NOW, "malformed"),
        ("SIGNED", BODY, SECRET, NOW, "malformed"),
        ("GOOD", BODY + b" ", SECRET, NOW, "does not match"),
        ("GOOD", BODY, "other-secret", NOW, "does not match"),
        ("GOOD", BODY, SECRET, NOW + 301, "tolerance"),
        ("GOOD", BODY, SECRET, NOW - 301, "tolerance"),
    ],
)
def test_anything_else_is_refused(
    header: str | None, body: bytes, secret: str, now: int, error: str
) -> None:
    if header == "GOOD":
        header = sign(SECRET, BODY, timestamp=NOW)
    with pytest.raises(SignatureError, match=error):
        verify(secret, header, body, now=now)


def test_a_rotated_secret_verifies_while_both_signatures_are_sent() -> None:
    old, new = sign("old", BODY, timestamp=NOW), sign("new", BODY, timestamp=NOW)
    header = f"{old},v1={new.split('v1=')[1]}"
    assert verify("new", header, BODY, now=NOW) == NOW
    assert verify("old", header, BODY, now=NOW) == NOW
