"""What the camera side calls to notify: a small Protocol, and a client that does nothing.

The Ray implementation (`iris.actors.notifier.RayNotifyClient`) sends each call to the
Notifier actor without waiting; `NullNotifyClient` stands in when nothing is configured. No
implementation raises into its caller or blocks it.
"""

from __future__ import annotations

from typing import Protocol

from iris.notify.payload import EventLike
from iris.settings import EventChange


class NotifyClient(Protocol):
    """Notifications from cameras and the WorkerManager; every call returns at once."""

    def event_changed(self, change: EventChange, before: EventLike | None,
                      after: EventLike) -> None:
        """An event opened (``new``, `before` None), changed (``update``) or finished
        (``end``); `before`/`after` are the row (or its API view) before and after."""

    def objects(self, camera_id: int, label: str, count: int) -> None:
        """`count` objects of `label` are in view of the camera now (call on change)."""

    def camera_status(self, camera_id: int, status: str) -> None:
        """The camera's status changed: online, offline, error or connecting."""

    def cameras_changed(self) -> None:
        """A camera was added, changed or deleted: discovery is republished from the DB."""


class NullNotifyClient:
    """Notifications switched off (no MQTT, no webhooks): every call is a no-op."""

    def event_changed(self, change: EventChange, before: EventLike | None,
                      after: EventLike) -> None:
        return None

    def objects(self, camera_id: int, label: str, count: int) -> None:
        return None

    def camera_status(self, camera_id: int, status: str) -> None:
        return None

    def cameras_changed(self) -> None:
        return None
