"""Authentication as the contract says: trusted SSO header first, then a bearer key.

The SSO header is trusted only when the gateway proved itself (`X-Iris-Gateway`, checked by
`iris.serve.security.RequestGuard`, which removes SSO headers from every other request). No Ray
and no FastAPI state here beyond the request, so the rules are unit-testable.
"""

from __future__ import annotations

import hmac
from dataclasses import dataclass

from fastapi import HTTPException, Request, status

from iris.serve.security import GATEWAY_SCOPE_KEY
from iris.settings import Settings

BEARER_CHALLENGE = {"WWW-Authenticate": "Bearer"}


@dataclass(frozen=True)
class Principal:
    """Who is calling: `via` is "sso", "api_key" or "anonymous"."""

    email: str | None
    name: str | None
    via: str


ANONYMOUS = Principal(email=None, name="anonymous", via="anonymous")


def authenticate(request: Request, settings: Settings) -> Principal:
    """Resolve the caller or raise 401 (`Invalid API key.` / `Authentication required.`)."""
    email = request.headers.get(settings.sso_email_header)
    if email and request.scope.get(GATEWAY_SCOPE_KEY) is True:
        name = request.headers.get(settings.sso_user_header) or email.split("@", 1)[0]
        return Principal(email=email, name=name, via="sso")

    authorization = request.headers.get("Authorization")
    if authorization:
        scheme, _, token = authorization.partition(" ")
        token = token.strip()
        if scheme.lower() == "bearer" and token:
            if settings.api_key and hmac.compare_digest(
                token.encode(), settings.api_key.encode()
            ):
                return Principal(email=None, name="api-key", via="api_key")
            if settings.auth_required:
                raise HTTPException(
                    status.HTTP_401_UNAUTHORIZED, "Invalid API key.", headers=BEARER_CHALLENGE
                )

    if not settings.auth_required:
        return ANONYMOUS
    raise HTTPException(
        status.HTTP_401_UNAUTHORIZED, "Authentication required.", headers=BEARER_CHALLENGE
    )
