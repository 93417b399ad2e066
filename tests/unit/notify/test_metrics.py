"""Prometheus series of the notifier, rendered with the API's exposition helpers."""

from __future__ import annotations

from iris.notify import notify_series
from iris.serve.metrics import _family

STATS = {
    "events": 3,
    "mqtt": {"connected": True, "connects": 2, "published": 40, "dropped": 1, "pending": 0},
    "webhooks": [
        {"target": "https://ha.lan:8123", "delivered": 5, "failed": 1, "retries": 4,
         "dropped": 0, "refused": 0, "pending": 2},
        {"target": "http://10.0.0.9:80", "delivered": 0, "failed": 3, "retries": 0,
         "dropped": 0, "refused": 3, "pending": 0},
    ],
}


def test_series_from_stats() -> None:
    series = {name: samples for name, _kind, _help, samples in notify_series(STATS)}
    assert series["iris_notify_mqtt_connected"] == [({}, 1.0)]
    assert series["iris_notify_mqtt_dropped_total"] == [({}, 1.0)]
    assert series["iris_notify_webhook_failed_total"] == [
        ({"target": 0, "origin": "https://ha.lan:8123"}, 1.0),
        ({"target": 1, "origin": "http://10.0.0.9:80"}, 3.0)]
    assert series["iris_notify_webhook_refused_total"][1][1] == 3.0


def test_nothing_when_notifications_are_off() -> None:
    assert notify_series(None) == []
    assert notify_series({"events": 0, "mqtt": None, "webhooks": []}) == []


def test_series_render_as_prometheus_text() -> None:
    lines: list[str] = []
    for name, kind, help_text, samples in notify_series(STATS):
        lines += _family(name, kind, help_text, samples)
    text = "\n".join(lines)
    assert "# TYPE iris_notify_webhook_delivered_total counter" in text
    assert 'iris_notify_webhook_delivered_total{target="0",origin="https://ha.lan:8123"} 5' in text
