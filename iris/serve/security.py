"""What every request and response passes through before the routers (plain ASGI, no Ray).

- **Gateway proof.** The SSO identity headers (email, user, and groups, which decide the role)
  and nginx's media hint (`X-Iris-Accel-Root`) are the gateway's words, not the client's.
  They count only when the request also carries `X-Iris-Gateway` equal to
  `sso_gateway_secret` (constant-time compare); otherwise they are removed before any router
  sees them. The proof itself never reaches a router or a log.
- **Cross-site requests.** A state-changing `/api` request that a browser marks as coming from
  another site (`Sec-Fetch-Site: cross-site|same-site`) or whose `Origin` is not this server's
  own gets 403 and changes nothing. Clients that send neither header (curl, the CLI) pass.
- **Security headers** on every response: a strict Content-Security-Policy the SPA runs under,
  `nosniff`, `Referrer-Policy: same-origin`, no framing.

Host checking is Starlette's `TrustedHostMiddleware` (see `install`), so a DNS-rebound name
finds nothing.
"""

from __future__ import annotations

import hmac
import json
from collections.abc import Iterable
from urllib.parse import urlsplit

from fastapi import FastAPI
from starlette.middleware.trustedhost import TrustedHostMiddleware
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from iris.settings import Settings

GATEWAY_HEADER = "x-iris-gateway"
ACCEL_ROOT_HEADER = "x-iris-accel-root"
#: Set in the ASGI scope when the request carried the gateway's proof.
GATEWAY_SCOPE_KEY = "iris.gateway"

UNSAFE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
CROSS_SITE = frozenset({"cross-site", "same-site"})
CROSS_SITE_REFUSED = "Cross-site request refused."
DEFAULT_PORTS = {"http": 80, "https": 443}

CONTENT_SECURITY_POLICY = "; ".join((
    "default-src 'self'",
    "script-src 'self'",
    "style-src 'self'",
    "img-src 'self' blob: data:",
    "media-src 'self' blob:",
    "connect-src 'self'",
    "worker-src 'self'",
    "manifest-src 'self'",
    "object-src 'none'",
    "base-uri 'self'",
    "form-action 'self'",
    "frame-ancestors 'none'",
))
SECURITY_HEADERS: tuple[tuple[bytes, bytes], ...] = (
    (b"content-security-policy", CONTENT_SECURITY_POLICY.encode()),
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"same-origin"),
    (b"x-frame-options", b"DENY"),
)


def gateway_proof_ok(proof: str | None, secret: str | None) -> bool:
    """True when the request carries the configured gateway secret (never without one)."""
    if not secret or not proof:
        return False
    return hmac.compare_digest(proof.encode(), secret.encode())


def cross_site(method: str, path: str, headers: dict[str, str]) -> bool:
    """True for a state-changing /api request that a browser sent from another site."""
    if method not in UNSAFE_METHODS or not (path == "/api" or path.startswith("/api/")):
        return False
    if headers.get("sec-fetch-site", "").strip().lower() in CROSS_SITE:
        return True
    origin = headers.get("origin")
    if origin is None:
        return False
    return not same_origin(origin, headers.get("host", ""))


def same_origin(origin: str, host: str) -> bool:
    """Whether an `Origin` header names the server the request was sent to (its Host).

    Ports count: a Host without one means the default port of the origin's scheme (the
    gateway forwards `$http_host`, which keeps a non-default port).
    """
    if not origin or origin.strip().lower() == "null":
        return False
    parts = urlsplit(origin.strip())
    if parts.scheme not in DEFAULT_PORTS or not parts.hostname:
        return False
    try:
        target = urlsplit(f"//{host.strip()}")
        target_name, target_port, origin_port = target.hostname, target.port, parts.port
    except ValueError:
        return False
    default = DEFAULT_PORTS[parts.scheme]
    return parts.hostname == target_name and (origin_port or default) == (target_port or default)


class RequestGuard:
    """Gateway proof, cross-site refusal and security headers around the whole app."""

    def __init__(self, app: ASGIApp, settings: Settings) -> None:
        self.app = app
        self.secret = settings.sso_gateway_secret
        self.gateway_only = {h.lower() for h in (settings.sso_email_header,
                                                 settings.sso_user_header, ACCEL_ROOT_HEADER,
                                                 settings.sso_groups_header) if h}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        raw: list[tuple[bytes, bytes]] = list(scope.get("headers", []))
        proofs = [v.decode("latin-1") for k, v in raw if k.lower() == GATEWAY_HEADER.encode()]
        trusted = len(proofs) == 1 and gateway_proof_ok(proofs[0], self.secret)
        drop = {GATEWAY_HEADER} | (set() if trusted else self.gateway_only)
        kept = [(k, v) for k, v in raw if k.decode("latin-1").lower() not in drop]
        scope = {**scope, "headers": kept, GATEWAY_SCOPE_KEY: trusted}

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                message = {**message, "headers": _with_security_headers(message["headers"])}
            await send(message)

        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in kept}
        if cross_site(scope["method"], scope["path"], headers):
            await _forbidden(send_with_headers)
            return
        await self.app(scope, receive, send_with_headers)


def _with_security_headers(
        headers: Iterable[tuple[bytes, bytes]]) -> list[tuple[bytes, bytes]]:
    present = {k.lower() for k, _ in headers}
    return [*headers, *((k, v) for k, v in SECURITY_HEADERS if k not in present)]


async def _forbidden(send: Send) -> None:
    body = json.dumps({"detail": CROSS_SITE_REFUSED}).encode()
    await send({"type": "http.response.start", "status": 403,
                "headers": [(b"content-type", b"application/json"),
                            (b"content-length", str(len(body)).encode())]})
    await send({"type": "http.response.body", "body": body})


def install(app: FastAPI, settings: Settings) -> None:
    """Wrap the app in the request guard and, outermost, the host check."""
    app.add_middleware(RequestGuard, settings=settings)
    app.add_middleware(TrustedHostMiddleware, allowed_hosts=settings.trusted_hosts)
