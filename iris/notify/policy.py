"""How notifications go out, and which webhook targets Iris refuses (no Ray, no network).

Webhook targets follow the camera-source rules of `iris.sources`: ``http``/``https`` to any
host except loopback, link-local, unspecified and cloud-metadata addresses, checked on every
address the name resolves to, at start-up for literal addresses and again right before every
delivery (DNS answers change), and the delivery then connects to the address that was checked.
Private LAN addresses are allowed, as for cameras: Home Assistant usually lives there.

Loopback is refused to users: no setting turns it on. `NotifyPolicy.allow_loopback` exists
for the tests' local receivers only, and `NotifyPolicy.from_settings` never sets it.
"""

from __future__ import annotations

import base64
import ssl
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from iris.notify.target_url import NotifyConfigError, bracketed, is_address, split_target
from iris.sources import SourceRefused, forbidden_address, resolve_host

if TYPE_CHECKING:
    from iris.settings import Settings

WEBHOOK_SCHEMES = {"http": 80, "https": 443}
MAX_URL_LENGTH = 2048

Resolver = Callable[[str, int], list[str]]


class WebhookRefused(ValueError):
    """A webhook target Iris will not contact; the message says why (no secrets in it)."""


class WebhookUnresolved(WebhookRefused):
    """The webhook host does not resolve (now): worth another try later."""


@dataclass(frozen=True)
class NotifyPolicy:
    """TLS, retries and address rules for MQTT and webhooks (from `Settings`, or tests).

    Attributes:
        tls_verify: verify the broker's and webhook receivers' certificates.
        ca_file: PEM bundle to verify against instead of the system's trust store.
        allow_loopback: tests only (their receivers listen on 127.0.0.1); link-local,
            unspecified and metadata addresses stay refused even then.
        webhook_attempts: tries per delivery, the first included.
        webhook_backoff_s: wait before the first retry; doubled for each further one.
        webhook_backoff_max_s: the longest wait between two tries.
        webhook_timeout_s: one try's budget (connect, send, answer).
        mqtt_keepalive_s: MQTT keepalive; a silent broker is given up after 1.5× this.
        mqtt_reconnect_max_s: the longest wait between two connection attempts.
    """

    tls_verify: bool = True
    ca_file: Path | None = None
    allow_loopback: bool = False
    webhook_attempts: int = 5
    webhook_backoff_s: float = 1.0
    webhook_backoff_max_s: float = 60.0
    webhook_timeout_s: float = 10.0
    mqtt_keepalive_s: int = 30
    mqtt_reconnect_max_s: int = 30

    @classmethod
    def from_settings(cls, settings: Settings) -> NotifyPolicy:
        """The policy the settings describe (loopback always refused)."""
        return cls(tls_verify=settings.tls_verify)

    def ssl_context(self) -> ssl.SSLContext:
        """The TLS client context for brokers and receivers: verifying unless `tls_verify`
        is off, against `ca_file` when one is given."""
        if not self.tls_verify:
            context = ssl.create_default_context()
            context.check_hostname = False
            context.verify_mode = ssl.CERT_NONE
            return context
        return ssl.create_default_context(cafile=self.ca_file)

    def refusal(self, address: str) -> str | None:
        """Why `address` may not receive webhooks; None when it may."""
        why = forbidden_address(address)
        if why == "loopback" and self.allow_loopback:
            return None
        return why


@dataclass(frozen=True)
class WebhookUrl:
    """A webhook URL split once: where to connect, and what to send as Host and SNI."""

    url: str = field(repr=False)
    scheme: str
    host: str  # lower case, IPv6 without brackets
    port: int
    target: str = field(repr=False)  # path and query, at least "/"
    username: str | None = field(default=None, repr=False)
    password: str | None = field(default=None, repr=False)

    @property
    def origin(self) -> str:
        """``scheme://host:port`` with no path: the path of a webhook URL is often its secret
        (Home Assistant's webhook id), so logs, stats and errors show only this."""
        return f"{self.scheme}://{bracketed(self.host)}:{self.port}"

    @property
    def host_header(self) -> str:
        default = WEBHOOK_SCHEMES[self.scheme] == self.port
        return bracketed(self.host) if default else f"{bracketed(self.host)}:{self.port}"

    def url_for(self, address: str) -> str:
        """The URL with the host replaced by a checked address (no second DNS lookup)."""
        return f"{self.scheme}://{bracketed(address)}:{self.port}{self.target}"

    def auth_header(self) -> str | None:
        """Basic credentials from the URL's user info, if it has any."""
        if self.username is None:
            return None
        pair = f"{self.username}:{self.password or ''}".encode()
        return "Basic " + base64.b64encode(pair).decode()


def parse_webhook_url(url: str) -> WebhookUrl:
    """Split a webhook URL, refusing what is not plain ``http(s)://host[:port]/path``.

    Raises:
        NotifyConfigError: another scheme, no host, a bad port, spaces or a fragment.
    """
    if len(url) > MAX_URL_LENGTH:
        raise NotifyConfigError(f"a webhook URL is longer than {MAX_URL_LENGTH} characters.")
    checked = split_target(url, "a webhook URL", schemes=WEBHOOK_SCHEMES,
                           example="https://hooks.example/iris", ascii_only=True)
    parts = checked.parts
    if parts.fragment or "#" in url:
        raise NotifyConfigError("a webhook URL takes no fragment ('#').")
    target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    return WebhookUrl(url=url, scheme=parts.scheme, host=checked.host.lower(),
                      port=checked.port, target=target, username=checked.username,
                      password=checked.password)


def check_literal_address(webhook: WebhookUrl, policy: NotifyPolicy) -> None:
    """At start-up: refuse a target whose host is a forbidden literal address.

    Host names are checked at each delivery instead (they may not resolve at boot).

    Raises:
        NotifyConfigError: the address is loopback, link-local, unspecified or metadata.
    """
    if not is_address(webhook.host):
        return
    why = policy.refusal(webhook.host)
    if why is not None:
        raise NotifyConfigError(f"webhook {webhook.origin}: {why} addresses never receive "
                                "webhooks.")


def resolve_target(webhook: WebhookUrl, policy: NotifyPolicy,
                   resolve: Resolver | None = None) -> str:
    """The address to deliver to: every address the host resolves to must be allowed.

    Raises:
        WebhookUnresolved: the host does not resolve (now).
        WebhookRefused: the host resolves to a forbidden address.
    """
    if is_address(webhook.host):
        addresses = [webhook.host]
    else:
        try:
            addresses = (resolve or resolve_host)(webhook.host, webhook.port)
        except SourceRefused:
            raise WebhookUnresolved(f"{webhook.origin}: the host does not resolve") from None
    if not addresses:
        raise WebhookUnresolved(f"{webhook.origin}: the host does not resolve")
    for address in addresses:
        why = policy.refusal(address)
        if why is not None:
            raise WebhookRefused(f"{webhook.origin} resolves to {address} ({why}): such "
                                 "addresses never receive webhooks")
    return addresses[0]
