"""The `notifications` object of `/api/system`: what is configured and how delivery goes.

Built from the settings and `Notifier.stats()` (None while no Notifier answers). It names the
broker and each webhook by origin only and masks anything secret-looking left in an error
text: no MQTT password, webhook path or signing secret reaches an answer.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from iris.notify.broker import parse_broker_url
from iris.notify.notifier import notify_enabled
from iris.notify.policy import parse_webhook_url
from iris.notify.target_url import NotifyConfigError
from iris.redact import MASK, redact_text
from iris.settings import Settings


def _secrets(settings: Settings) -> list[str]:
    """Every secret an error text could quote."""
    found: list[str] = []
    if settings.mqtt_url:
        try:
            broker = parse_broker_url(settings.mqtt_url)
        except NotifyConfigError:
            pass
        else:
            found += [broker.password or ""]
    for target in settings.webhooks:
        found += [target.secret or ""]
        try:
            webhook = parse_webhook_url(target.url)
        except NotifyConfigError:
            continue
        found += [webhook.password or ""]
        if webhook.target != "/":
            found.append(webhook.target)
    return sorted({s for s in found if len(s) >= 4}, key=len, reverse=True)


def _clean(value: Any, settings: Settings, secrets: list[str]) -> Any:
    if not isinstance(value, str):
        return value
    urls = [settings.mqtt_url or "", *(target.url for target in settings.webhooks)]
    text = redact_text(value, urls)
    for secret in secrets:
        text = text.replace(secret, MASK)
    return text


def _origin(url: str) -> str:
    try:
        return parse_webhook_url(url).origin
    except NotifyConfigError:
        return "(invalid URL)"


def notifications_view(settings: Settings, stats: Mapping[str, Any] | None) -> dict[str, Any]:
    """``{enabled, running, events, mqtt, webhooks}`` for `/api/system`.

    `mqtt` is null without `mqtt_url`; each webhook shows its origin, its `events` and its
    counters. While no Notifier answers (`running` false) only the configuration is shown.
    """
    secrets = _secrets(settings)
    mqtt: dict[str, Any] | None = None
    if settings.mqtt_url:
        live = (stats or {}).get("mqtt")
        if live:
            mqtt = {key: _clean(value, settings, secrets) for key, value in live.items()}
        else:
            try:
                broker = parse_broker_url(settings.mqtt_url).display
            except NotifyConfigError:
                broker = "(invalid URL)"
            mqtt = {"broker": broker, "connected": False}
        mqtt["topic_prefix"] = settings.mqtt_topic_prefix
        mqtt["discovery_prefix"] = settings.mqtt_discovery_prefix
    live_hooks = list((stats or {}).get("webhooks") or [])
    webhooks: list[dict[str, Any]] = []
    for index, target in enumerate(settings.webhooks):
        if index < len(live_hooks):
            webhooks.append({key: _clean(value, settings, secrets)
                             for key, value in live_hooks[index].items()})
        else:
            webhooks.append({"target": _origin(target.url), "events": sorted(target.events)})
    return {
        "enabled": notify_enabled(settings),
        "running": stats is not None,
        "events": int((stats or {}).get("events") or 0),
        "mqtt": mqtt,
        "webhooks": webhooks,
    }
