"""The checks every notification target URL gets (MQTT broker, webhook), in one place."""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping
from dataclasses import dataclass, field
from urllib.parse import SplitResult, unquote, urlsplit


class NotifyConfigError(ValueError):
    """A notification setting Iris cannot use; the message names the setting and says why."""


@dataclass(frozen=True)
class TargetUrl:
    """A target URL split and checked: a known scheme, a host, a port (else the scheme's)."""

    parts: SplitResult = field(repr=False)
    host: str
    port: int
    username: str | None = field(default=None, repr=False)
    password: str | None = field(default=None, repr=False)


def split_target(url: str, name: str, *, schemes: Mapping[str, int], example: str,
                 ascii_only: bool = False) -> TargetUrl:
    """Split `url` (the setting `name`), refusing spaces, control characters (and non-ASCII
    ones with `ascii_only`), a bad port, another scheme or no host; credentials are
    percent-decoded.

    Raises:
        NotifyConfigError: the message names `name`, says what is wrong and shows `example`.
    """
    if any(ord(c) <= 0x20 or ord(c) == 0x7F or (ascii_only and ord(c) > 0x7F) for c in url):
        kind = "spaces, control or non-ASCII characters" if ascii_only else \
            "spaces or control characters"
        raise NotifyConfigError(f"{name} contains {kind}; percent-encode them.")
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        raise NotifyConfigError(f"{name} is not a valid URL ({exc}); percent-encode "
                                "'@', ':' and '/' in the password.") from None
    if parts.scheme not in schemes:
        starts = " or ".join(f"{scheme}://" for scheme in schemes)
        raise NotifyConfigError(f"{name} must start with {starts}, e.g. {example}.")
    if not parts.hostname:
        raise NotifyConfigError(f"{name} names no host, e.g. {example}.")
    return TargetUrl(
        parts=parts, host=parts.hostname, port=port or schemes[parts.scheme],
        username=None if parts.username is None else unquote(parts.username),
        password=None if parts.password is None else unquote(parts.password))


def bracketed(host: str) -> str:
    """`host` as it stands in a URL: an IPv6 address in brackets."""
    return f"[{host}]" if ":" in host else host


def is_address(host: str) -> bool:
    """Whether `host` is a literal IP address rather than a name to resolve."""
    try:
        return bool(ipaddress.ip_address(host))
    except ValueError:
        return False
