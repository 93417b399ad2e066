"""Where the MQTT broker is: ``mqtt://user:pass@host:1883`` or ``mqtts://host:8883``."""

from __future__ import annotations

from dataclasses import dataclass, field

from iris.notify.target_url import NotifyConfigError, bracketed, split_target

DEFAULT_PORTS = {"mqtt": 1883, "mqtts": 8883}


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
        return f"{'mqtts' if self.tls else 'mqtt'}://{bracketed(self.host)}:{self.port}"


def parse_broker_url(url: str) -> BrokerAddress:
    """Split `mqtt_url`; user name and password are percent-decoded.

    Raises:
        NotifyConfigError: not ``mqtt://`` or ``mqtts://``, no host, a bad port, a path.
    """
    target = split_target(url, "mqtt_url", schemes=DEFAULT_PORTS,
                          example="mqtt://user:pass@broker:1883")
    parts = target.parts
    if parts.path not in ("", "/") or parts.query or parts.fragment:
        raise NotifyConfigError("mqtt_url takes no path or query: mqtt://user:pass@host:port.")
    return BrokerAddress(host=target.host, port=target.port, tls=parts.scheme == "mqtts",
                         username=target.username, password=target.password)
