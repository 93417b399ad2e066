"""`/api/system`'s notifications object: configuration and delivery state, never a secret."""

from __future__ import annotations

import json

from iris.notify.system_view import notifications_view
from iris.settings import load_settings

PASSWORD = "broker-pass-1234"
SECRET = "sign-secret-5678"
HOOK_PATH = "/api/webhook/iris-7f3a9"


def _settings():  # noqa: ANN202 - a Settings
    return load_settings(
        mqtt_url=f"mqtt://iris:{PASSWORD}@192.168.1.10:1883",
        webhooks=[{"url": f"http://ha.lan:8123{HOOK_PATH}", "events": ["new", "end"],
                   "secret": SECRET}])


def test_off_says_so() -> None:
    view = notifications_view(load_settings(), None)
    assert view == {"enabled": False, "running": False, "events": 0, "mqtt": None,
                    "webhooks": []}


def test_configured_but_not_answering_shows_the_configuration_only() -> None:
    view = notifications_view(_settings(), None)
    assert view["enabled"] and not view["running"]
    assert view["mqtt"] == {"broker": "mqtt://192.168.1.10:1883", "connected": False,
                            "topic_prefix": "iris", "discovery_prefix": "homeassistant"}
    assert view["webhooks"] == [{"target": "http://ha.lan:8123", "events": ["end", "new"]}]


def test_errors_quoting_secrets_are_masked() -> None:
    stats = {
        "events": 4,
        "mqtt": {"broker": "mqtt://192.168.1.10:1883", "connected": False, "connects": 1,
                 "last_error": f"cannot connect: bad password {PASSWORD}"},
        "webhooks": [{"target": "http://ha.lan:8123", "events": ["end", "new"], "failed": 2,
                      "last_error": f"POST http://ha.lan:8123{HOOK_PATH} with {SECRET}: 500"}],
    }
    view = notifications_view(_settings(), stats)
    assert view["running"] and view["events"] == 4
    assert view["webhooks"][0]["failed"] == 2 and view["mqtt"]["connects"] == 1
    text = json.dumps(view)
    for secret in (PASSWORD, SECRET, HOOK_PATH):
        assert secret not in text
