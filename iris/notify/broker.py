"""Where the MQTT broker is: ``mqtt://user:pass@host:1883`` or ``mqtts://host:8883``."""

from __future__ import annotations

from dataclasses import dataclass, field
from urllib.parse import unquote, urlsplit

DEFAULT_PORTS = {"mqtt": 1883, "mqtts": 8883}


class NotifyConfigError(ValueError):
    """A notification setting Iris cannot use; the message names the setting and says why."""


@dataclass(frozen=True)
class BrokerAddress:
    """An MQTT broker to connect to; `tls` for ``mqtts``."""

    host: str
    port: int
    tls: bool
    username: str | None = None
    password: str | None = field(default=None, repr=False)

    @property
    def display(self) -> str:
        """The broker without credentials, for logs and `/api/system`."""
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{'mqtts' if self.tls else 'mqtt'}://{host}:{self.port}"


def parse_broker_url(url: str) -> BrokerAddress:
    """Split `mqtt_url`; user name and password are percent-decoded.

    Raises:
        NotifyConfigError: not ``mqtt://`` or ``mqtts://``, no host, a bad port, a path.
    """
    if any(ord(c) <= 0x20 or ord(c) == 0x7F for c in url):
        raise NotifyConfigError("mqtt_url contains spaces or control characters; "
                                "percent-encode them.")
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        raise NotifyConfigError(f"mqtt_url is not a valid URL ({exc}); percent-encode "
                                "'@', ':' and '/' in the password.") from None
    if parts.scheme not in DEFAULT_PORTS:
        raise NotifyConfigError("mqtt_url must start with mqtt:// or mqtts://, e.g. "
                                "mqtt://user:pass@broker:1883.")
    if not parts.hostname:
        raise NotifyConfigError("mqtt_url names no broker host, e.g. mqtt://broker:1883.")
    if parts.path not in ("", "/") or parts.query or parts.fragment:
        raise NotifyConfigError("mqtt_url takes no path or query: mqtt://user:pass@host:port.")
    return BrokerAddress(
        host=parts.hostname, port=port or DEFAULT_PORTS[parts.scheme],
        tls=parts.scheme == "mqtts",
        username=None if parts.username is None else unquote(parts.username),
        password=None if parts.password is None else unquote(parts.password))
