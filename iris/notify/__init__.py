"""Notifications: event changes, object counts and camera status to MQTT (with Home Assistant
discovery) and to signed webhooks. Plain code, no Ray: `iris/actors/notifier.py` is the shell.

Public face: `Notifier` (the fan-out), `NotifyClient` (what cameras call), `NotifyPolicy`
(TLS, retries, address rules), `check_notify_settings` (refuse bad settings at start-up).
"""

from iris.notify.cameras import CameraInfo, CameraReloader, load_cameras
from iris.notify.client import NotifyClient, NullNotifyClient
from iris.notify.metrics import notify_series
from iris.notify.notifier import Notifier, check_notify_settings, notify_enabled
from iris.notify.payload import event_message, public_event
from iris.notify.policy import NotifyPolicy
from iris.notify.signing import verify
from iris.notify.target_url import NotifyConfigError

__all__ = [
    "CameraInfo",
    "CameraReloader",
    "NotifyClient",
    "NotifyConfigError",
    "NotifyPolicy",
    "Notifier",
    "NullNotifyClient",
    "check_notify_settings",
    "event_message",
    "load_cameras",
    "notify_enabled",
    "notify_series",
    "public_event",
    "verify",
]
