"""Webhook signatures: ``X-Iris-Signature: sha256=<hex HMAC-SHA256 of the body>``."""

from __future__ import annotations

import hashlib
import hmac

SIGNATURE_HEADER = "X-Iris-Signature"
DELIVERY_HEADER = "X-Iris-Delivery"
EVENT_HEADER = "X-Iris-Event"
_PREFIX = "sha256="


def sign(body: bytes, secret: str) -> str:
    """The signature header's value for `body` under `secret`."""
    digest = hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    return _PREFIX + digest


def verify(body: bytes, secret: str, header: str | None) -> bool:
    """True when `header` is the signature of `body` under `secret` (constant-time compare).

    What a receiver runs on the raw request body, before parsing it.
    """
    if not header or not header.startswith(_PREFIX):
        return False
    return hmac.compare_digest(sign(body, secret), header.strip())
