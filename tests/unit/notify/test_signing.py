"""Webhook signatures: HMAC-SHA256 of the exact body, checked in constant time."""

from __future__ import annotations

import pytest

from iris.notify.signing import sign, verify

BODY = b"The quick brown fox jumps over the lazy dog"


def test_signature_is_the_hex_hmac_sha256_of_the_body() -> None:
    # RFC-style known answer (HMAC_SHA256("key", BODY)), not recomputed by the test.
    assert sign(BODY, "key") == (
        "sha256=f7bc83f430538424b13298e6aa6fb143ef4d59a14946175997479dbc2d1a3cd8")


@pytest.mark.parametrize(("body", "secret", "header", "ok"), [
    (BODY, "key", sign(BODY, "key"), True),
    (BODY + b".", "key", sign(BODY, "key"), False),
    (BODY, "other", sign(BODY, "key"), False),
    (BODY, "key", sign(BODY, "key").removeprefix("sha256="), False),
    (BODY, "key", None, False),
    (BODY, "key", "", False),
])
def test_verify(body: bytes, secret: str, header: str | None, ok: bool) -> None:
    assert verify(body, secret, header) is ok
