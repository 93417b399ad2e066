"""Authentication as the contract says: trusted SSO header first, then a bearer key.

The SSO headers (email, user, groups) are trusted only when the gateway proved itself
(`X-Iris-Gateway`, checked by `iris.serve.security.RequestGuard`, which removes them from
every other request). Each way in gives a role and a camera scope: the configured `api_key`
is the admin key; an SSO user gets what `role_map` grants their groups (`sso_default_role`
when none is mapped); a key of `iris.db.keys` gets its own. What a role may do is
`iris.serve.access`'s business. No Ray and no FastAPI state here beyond the request, so the
rules are unit-testable.
"""

from __future__ import annotations

import hmac
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from fastapi import HTTPException, Request, status

from iris.db.scope import CameraScope
from iris.serve.security import GATEWAY_SCOPE_KEY
from iris.settings import Role, RoleGrant, Settings

BEARER_CHALLENGE = {"WWW-Authenticate": "Bearer"}
INVALID_KEY = "Invalid API key."
REQUIRED = "Authentication required."


@dataclass(frozen=True)
class Principal:
    """Who is calling: `via` is "sso", "api_key" or "anonymous"; what they may do: `role`, and
    `cameras` (None: every camera)."""

    email: str | None
    name: str | None
    via: str
    role: Role = "admin"
    cameras: CameraScope = None

    def as_dict(self) -> dict[str, object]:
        """The caller as /api/system names them."""
        return {"email": self.email, "name": self.name, "via": self.via, "role": self.role,
                "cameras": sorted(self.cameras) if self.cameras is not None else None}


ANONYMOUS = Principal(email=None, name="anonymous", via="anonymous")

KeyLookup = Callable[[str], Principal | None]
"""A bearer token -> the principal of the stored key it belongs to, or None."""


def authenticate(request: Request, settings: Settings,
                 find_key: KeyLookup | None = None) -> Principal:
    """Resolve the caller or raise 401 (`Invalid API key.` / `Authentication required.`).

    Raises 403 for an SSO user whom no group admits when `sso_default_role` is `none`.
    """
    email = request.headers.get(settings.sso_email_header)
    if email and request.scope.get(GATEWAY_SCOPE_KEY) is True:
        return sso_principal(request, settings, email)

    authorization = request.headers.get("Authorization")
    if authorization:
        scheme, _, token = authorization.partition(" ")
        token = token.strip()
        if scheme.lower() == "bearer" and token:
            if settings.api_key and hmac.compare_digest(
                token.encode(), settings.api_key.encode()
            ):
                return Principal(email=None, name="api-key", via="api_key")
            stored = find_key(token) if find_key is not None else None
            if stored is not None:
                return stored
            if settings.auth_required:
                raise HTTPException(
                    status.HTTP_401_UNAUTHORIZED, INVALID_KEY, headers=BEARER_CHALLENGE
                )

    if not settings.auth_required:
        return ANONYMOUS
    raise HTTPException(status.HTTP_401_UNAUTHORIZED, REQUIRED, headers=BEARER_CHALLENGE)


def sso_principal(request: Request, settings: Settings, email: str) -> Principal:
    """The gateway's user with the role and cameras their groups grant."""
    name = request.headers.get(settings.sso_user_header) or email.split("@", 1)[0]
    groups = (request.headers.get(settings.sso_groups_header, "")
              if settings.sso_groups_header else "")
    grant = grant_for_groups(split_groups(groups), settings)
    if grant is None:
        raise HTTPException(
            status.HTTP_403_FORBIDDEN,
            f"Signed in as {email}, but none of your groups may use Iris: ask an "
            "administrator to add one to role_map.")
    cameras = frozenset(grant.cameras) if grant.cameras is not None else None
    return Principal(email=email, name=name, via="sso", role=grant.role, cameras=cameras)


def split_groups(header: str) -> list[str]:
    """The groups of a comma-separated header value (blanks dropped)."""
    return [group.strip() for group in header.split(",") if group.strip()]


def grant_for_groups(groups: Iterable[str], settings: Settings) -> RoleGrant | None:
    """What `role_map` grants these groups together: the most any of them grants.

    Admin wins; viewers see the union of their groups' cameras (every camera when one group
    is unlimited). No mapped group: `sso_default_role` (None when it is `none`).
    """
    grants = [settings.role_map[group] for group in groups if group in settings.role_map]
    if not grants:
        default = settings.sso_default_role
        return None if default == "none" else RoleGrant(role=default)
    if any(grant.role == "admin" for grant in grants):
        return RoleGrant(role="admin")
    if any(grant.cameras is None for grant in grants):
        return RoleGrant(role="viewer")
    return RoleGrant(role="viewer",
                     cameras=sorted({c for grant in grants for c in grant.cameras or []}))
