"""Prometheus series of the notifier's stats (the text format is `iris.serve.metrics`'s job)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

#: (name, type, help, samples as (labels, value))
Series = tuple[str, str, str, list[tuple[dict[str, object], float]]]

_MQTT = (
    ("iris_notify_mqtt_connected", "gauge", "1 while connected to the MQTT broker",
     "connected"),
    ("iris_notify_mqtt_connects_total", "counter", "Successful MQTT (re)connections",
     "connects"),
    ("iris_notify_mqtt_published_total", "counter", "MQTT messages the broker acknowledged",
     "published"),
    ("iris_notify_mqtt_dropped_total", "counter",
     "MQTT messages dropped because the queue was full", "dropped"),
    ("iris_notify_mqtt_pending", "gauge", "MQTT messages waiting or unacknowledged",
     "pending"),
)
_WEBHOOK = (
    ("iris_notify_webhook_delivered_total", "counter", "Webhook deliveries accepted (2xx)",
     "delivered"),
    ("iris_notify_webhook_failed_total", "counter", "Webhook deliveries given up", "failed"),
    ("iris_notify_webhook_retries_total", "counter", "Webhook tries after the first",
     "retries"),
    ("iris_notify_webhook_dropped_total", "counter",
     "Webhook deliveries dropped because the queue was full", "dropped"),
    ("iris_notify_webhook_refused_total", "counter",
     "Webhook deliveries refused: the target resolved to a forbidden address", "refused"),
    ("iris_notify_webhook_pending", "gauge", "Webhook deliveries waiting", "pending"),
)


def notify_series(stats: Mapping[str, Any] | None) -> list[Series]:
    """The series for `Notifier.stats()` (empty when notifications are off)."""
    if not stats:
        return []
    series: list[Series] = []
    mqtt = stats.get("mqtt")
    if mqtt:
        series += [(name, kind, help_text, [({}, float(mqtt.get(key) or 0))])
                   for name, kind, help_text, key in _MQTT]
    hooks = stats.get("webhooks") or []
    if hooks:
        for name, kind, help_text, key in _WEBHOOK:
            series.append((name, kind, help_text, [
                ({"target": index, "origin": hook.get("target", "")},
                 float(hook.get(key) or 0)) for index, hook in enumerate(hooks)]))
    return series
