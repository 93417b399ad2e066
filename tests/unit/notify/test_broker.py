"""`mqtt_url`: scheme, host, port, credentials; refused with a message naming the setting."""

from __future__ import annotations

import pytest

from iris.notify.broker import BrokerAddress, NotifyConfigError, parse_broker_url


@pytest.mark.parametrize(("url", "expected"), [
    ("mqtt://broker", BrokerAddress("broker", 1883, False)),
    ("mqtt://broker:1884", BrokerAddress("broker", 1884, False)),
    ("mqtts://broker", BrokerAddress("broker", 8883, True)),
    ("mqtt://iris:s3cr%40t@10.0.0.2:1883/", BrokerAddress("10.0.0.2", 1883, False, "iris",
                                                           "s3cr@t")),
    ("mqtt://[fd00::1]:1883", BrokerAddress("fd00::1", 1883, False)),
])
def test_parse(url: str, expected: BrokerAddress) -> None:
    assert parse_broker_url(url) == expected


@pytest.mark.parametrize(("url", "message"), [
    ("http://broker", "mqtt:// or mqtts://"),
    ("broker:1883", "mqtt:// or mqtts://"),
    ("mqtt://", "names no host"),
    ("mqtt://broker:99999", "not a valid URL"),
    ("mqtt://broker/topic", "no path"),
    ("mqtt://bro ker", "spaces"),
])
def test_refused(url: str, message: str) -> None:
    with pytest.raises(NotifyConfigError, match=message) as caught:
        parse_broker_url(url)
    assert "mqtt_url" in str(caught.value)


def test_display_and_repr_hide_the_password() -> None:
    broker = parse_broker_url("mqtts://iris:hunter22@broker:8883")
    assert broker.display == "mqtts://broker:8883"
    assert "hunter22" not in repr(broker)
