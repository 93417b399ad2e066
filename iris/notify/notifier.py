"""The Notifier: event changes, object counts and camera status out to MQTT and webhooks.

Plain code (no Ray): `iris/actors/notifier.py` is its shell. Every method returns at once —
MQTT and each webhook target queue on their own — and none raises on a delivery problem; the
problems show in `stats()`.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterable, Sequence
from typing import Any

from iris.notify.broker import parse_broker_url
from iris.notify.cameras import CameraInfo
from iris.notify.discovery import discovery_configs
from iris.notify.mqtt import MqttPublisher
from iris.notify.payload import EventLike, encode, event_message
from iris.notify.policy import NotifyPolicy, Resolver, check_literal_address, parse_webhook_url
from iris.notify.target_url import NotifyConfigError
from iris.notify.topics import Topics
from iris.notify.webhooks import WebhookSender
from iris.settings import EventChange, Settings

log = logging.getLogger("iris.notify")


def notify_enabled(settings: Settings) -> bool:
    """True when MQTT or at least one webhook is configured (else nothing needs to run)."""
    return bool(settings.mqtt_url or settings.webhooks)


def check_notify_settings(settings: Settings, policy: NotifyPolicy | None = None) -> None:
    """Refuse, before anything starts, notification settings that can never work.

    Raises:
        NotifyConfigError: a malformed `mqtt_url`, or a webhook URL that is malformed or a
            forbidden literal address (names are checked at each delivery).
    """
    policy = policy or NotifyPolicy.from_settings(settings)
    if settings.mqtt_url:
        parse_broker_url(settings.mqtt_url)
    for index, target in enumerate(settings.webhooks):
        try:
            check_literal_address(parse_webhook_url(target.url), policy)
        except NotifyConfigError as exc:
            raise NotifyConfigError(f"webhooks[{index}]: {exc}") from None


class Notifier:
    """Fans event changes, object counts and camera status out to MQTT and webhooks."""

    def __init__(self, *, topics: Topics, mqtt: MqttPublisher | None = None,
                 webhooks: Sequence[WebhookSender] = ()) -> None:
        self.topics = topics
        self._mqtt = mqtt
        self._webhooks = list(webhooks)
        self._lock = threading.Lock()
        self._cameras: dict[int, CameraInfo] = {}
        self._configs: dict[int, dict[str, bytes]] = {}
        self._counts: dict[tuple[int, str], int] = {}
        self._status: dict[int, str] = {}
        self.events_seen = 0

    @classmethod
    def from_settings(cls, settings: Settings, policy: NotifyPolicy | None = None, *,
                      resolve: Resolver | None = None) -> Notifier:
        """The notifier the settings describe (not started).

        Raises:
            NotifyConfigError: see `check_notify_settings`.
        """
        policy = policy or NotifyPolicy.from_settings(settings)
        check_notify_settings(settings, policy)
        topics = Topics(settings.mqtt_topic_prefix, settings.mqtt_discovery_prefix)
        mqtt = None
        if settings.mqtt_url:
            mqtt = MqttPublisher(parse_broker_url(settings.mqtt_url), policy,
                                 availability_topic=topics.available,
                                 queue_size=settings.notify_queue_size)
        webhooks = [WebhookSender(target, policy, queue_size=settings.notify_queue_size,
                                  resolve=resolve) for target in settings.webhooks]
        return cls(topics=topics, mqtt=mqtt, webhooks=webhooks)

    def start(self) -> None:
        """Connect to the broker and start the webhook threads (returns at once)."""
        if self._mqtt is not None:
            self._mqtt.start()
        for sender in self._webhooks:
            sender.start()

    def close(self) -> None:
        """Say ``offline`` on MQTT and stop every sender."""
        if self._mqtt is not None:
            self._mqtt.close()
        for sender in self._webhooks:
            sender.close()

    # ------------------------------------------------------------------ cameras
    def set_cameras(self, cameras: Iterable[CameraInfo]) -> None:
        """The cameras as they are now: discovery (re)published, removed ones deleted."""
        fresh = {camera.id: camera for camera in cameras}
        with self._lock:
            gone = set(self._cameras) - set(fresh)
            self._cameras = fresh
            for camera_id in gone:
                self._forget(camera_id)
            for camera in fresh.values():
                self._discover(camera)

    def _discover(self, camera: CameraInfo) -> None:
        configs = discovery_configs(self.topics, camera)
        old = self._configs.get(camera.id, {})
        self._configs[camera.id] = configs
        if not camera.enabled:  # stopped: whatever it reported last is over
            self._status[camera.id] = camera.status
            for key in [key for key in self._counts if key[0] == camera.id]:
                self._counts[key] = 0
                self._retain(self.topics.objects(*key), b"0")
        self._status.setdefault(camera.id, camera.status)
        self._retain(self.topics.status(camera.id), self._status[camera.id].encode())
        for label in camera.labels:
            self._retain(self.topics.objects(camera.id, label),
                         str(self._counts.setdefault((camera.id, label), 0)).encode())
        for topic in old.keys() - configs.keys():  # a label no longer triggers
            self._clear(topic)
        for topic, payload in configs.items():
            self._retain(topic, payload)

    def _forget(self, camera_id: int) -> None:
        for topic in self._configs.pop(camera_id, {}):
            self._clear(topic)
        for key in [key for key in self._counts if key[0] == camera_id]:
            del self._counts[key]
            self._clear(self.topics.objects(*key))
        self._status.pop(camera_id, None)
        self._clear(self.topics.status(camera_id))

    # ------------------------------------------------------------------ what cameras report
    def event_changed(self, change: EventChange, before: EventLike | None,
                      after: EventLike) -> None:
        """An event opened (``new``), changed (``update``) or finished (``end``)."""
        body = encode(event_message(change, before, after))
        with self._lock:
            self.events_seen += 1
        if self._mqtt is not None:
            self._mqtt.publish(self.topics.events, body)
        for sender in self._webhooks:
            if sender.wants(change):
                sender.submit(change, body)

    def objects(self, camera_id: int, label: str, count: int) -> None:
        """`count` objects of `label` are in view of the camera now."""
        with self._lock:
            self._counts[(camera_id, label)] = count
            self._retain(self.topics.objects(camera_id, label), str(count).encode())

    def camera_status(self, camera_id: int, status: str) -> None:
        """The camera's status changed (online, offline, error, connecting)."""
        with self._lock:
            self._status[camera_id] = status
            self._retain(self.topics.status(camera_id), status.encode())

    # ------------------------------------------------------------------ introspection
    def stats(self) -> dict[str, Any]:
        """MQTT and per-webhook counters and last errors (for `/api/system` and metrics)."""
        with self._lock:
            events = self.events_seen
        return {
            "events": events,
            "mqtt": None if self._mqtt is None else self._mqtt.stats(),
            "webhooks": [sender.stats() for sender in self._webhooks],
        }

    def _retain(self, topic: str, payload: bytes) -> None:
        if self._mqtt is not None:
            self._mqtt.set_state(topic, payload)

    def _clear(self, topic: str) -> None:
        if self._mqtt is not None:
            self._mqtt.clear_state(topic)
