"""Notifier: the named singleton actor that sends notifications (MQTT, webhooks).

`iris up` starts it (`start_notifier`, detached, named `names.NOTIFIER` in the instance's
namespace) when `mqtt_url` or `webhooks` are set, before the cameras; cameras and the
WorkerManager find it by name (`find_notifier`) and get a `NullNotifyClient` when it is not
there. On a clean stop `stop_notifier` has it say ``offline`` first.

A thin shell: `iris.notify.Notifier` does the work; this wires it to the database (the camera
list, reloaded off the actor's thread on `cameras_changed`) and to Ray. Callers never wait on
it: `RayNotifyClient` sends every call with `.remote()` and drops the reference. Calls run one
at a time in the order each caller sent them, so a ``new`` is published before its ``end``.
Killed, the actor's broker connection dies and its last will marks Iris ``offline``; Ray
restarts it and it says ``online`` again.
"""

from __future__ import annotations

import logging
import os
from typing import Any

import ray

from iris import names
from iris.db.engine import connect
from iris.notify import (
    CameraReloader,
    Notifier,
    NotifyClient,
    NotifyPolicy,
    NullNotifyClient,
    load_cameras,
    notify_enabled,
    public_event,
)
from iris.notify.payload import EventLike
from iris.settings import EventChange, Settings

log = logging.getLogger("iris.notify")

#: It waits on sockets almost all the time.
NOTIFIER_NUM_CPUS = 0.05
CLOSE_TIMEOUT_S = 15.0


@ray.remote(num_cpus=0, max_restarts=-1, max_task_retries=-1)  # type: ignore[call-overload]
class NotifierActor:
    """MQTT and webhook fan-out for one Iris instance (`names.NOTIFIER` in its namespace)."""

    def __init__(self, settings: Settings, policy: NotifyPolicy | None = None) -> None:
        # `policy` is for tests (their receivers live on loopback); Iris passes none.
        self._notifier = Notifier.from_settings(settings, policy)
        engine = connect(settings.resolved_database_url)
        self._notifier.start()
        self._reloader = CameraReloader(lambda: load_cameras(engine, settings),
                                        self._notifier.set_cameras)
        self._reloader.request()

    def event_changed(self, change: EventChange, before: dict[str, Any] | None,
                      after: dict[str, Any]) -> None:
        self._notifier.event_changed(change, before, after)

    def objects(self, camera_id: int, label: str, count: int) -> None:
        self._notifier.objects(camera_id, label, count)

    def camera_status(self, camera_id: int, status: str) -> None:
        self._notifier.camera_status(camera_id, status)

    def cameras_changed(self) -> None:
        self._reloader.request()

    def stats(self) -> dict[str, Any]:
        return self._notifier.stats()

    def pid(self) -> int:
        """The actor's process (fault tests kill it)."""
        return os.getpid()

    def close(self) -> None:
        """Say ``offline`` and stop sending (before the instance shuts down)."""
        self._reloader.close()
        self._notifier.close()


class RayNotifyClient:
    """`NotifyClient` over the Notifier actor's handle: fire and forget, never raises.

    Event rows are turned into their API view here, on the caller's side, so the actor
    receives small JSON-ready dicts.
    """

    def __init__(self, handle: Any) -> None:
        self._handle = handle
        self._failing = False

    def event_changed(self, change: EventChange, before: EventLike | None,
                      after: EventLike) -> None:
        try:
            body = (None if before is None else public_event(before), public_event(after))
        except Exception as exc:  # noqa: BLE001 - a notification never breaks recording
            log.warning("event %s: not notified (%s)", change, exc)
            return
        self._send("event_changed", change, *body)

    def objects(self, camera_id: int, label: str, count: int) -> None:
        self._send("objects", camera_id, label, count)

    def camera_status(self, camera_id: int, status: str) -> None:
        self._send("camera_status", camera_id, status)

    def cameras_changed(self) -> None:
        self._send("cameras_changed")

    def _send(self, method: str, *args: Any) -> None:
        try:
            getattr(self._handle, method).remote(*args)
        except Exception as exc:  # noqa: BLE001 - the notifier being away stops no camera
            if not self._failing:
                log.warning("notifier unreachable (%s): %s", method, exc)
            self._failing = True
        else:
            self._failing = False


def notify_client(handle: Any | None) -> NotifyClient:
    """The client for a Notifier handle, or one that does nothing when there is none."""
    return NullNotifyClient() if handle is None else RayNotifyClient(handle)


def start_notifier(settings: Settings, resources: dict[str, float] | None = None) -> Any | None:
    """Start the instance's Notifier (detached, named) when notifications are configured;
    returns its handle, None when nothing is configured.

    A Notifier left by an earlier start of this instance is replaced: it holds the settings of
    that start. Call it after `check_notify_settings` has accepted the settings.
    """
    if not notify_enabled(settings):
        return None
    namespace = settings.ray_namespace
    try:
        leftover = ray.get_actor(names.NOTIFIER, namespace=namespace)
    except ValueError:
        pass
    else:
        ray.kill(leftover, no_restart=True)
    handle = NotifierActor.options(  # type: ignore[attr-defined]
        name=names.NOTIFIER, namespace=namespace, lifetime="detached",
        num_cpus=NOTIFIER_NUM_CPUS, resources=dict(resources or {}),
    ).remote(settings)
    ray.get(handle.pid.remote(), timeout=60)  # constructed: cameras find it from now on
    return handle


def stop_notifier(namespace: str, timeout_s: float = CLOSE_TIMEOUT_S) -> None:
    """Have the Notifier say ``offline`` and stop, then end it (a clean shutdown)."""
    try:
        handle = ray.get_actor(names.NOTIFIER, namespace=namespace)
    except ValueError:
        return
    try:
        ray.get(handle.close.remote(), timeout=timeout_s)
    except Exception as exc:  # noqa: BLE001 - its last will says offline all the same
        log.warning("notifier did not close cleanly: %s", exc)
    ray.kill(handle, no_restart=True)


def find_notifier(namespace: str) -> NotifyClient:
    """The client cameras and the WorkerManager call: the running Notifier's, else a no-op."""
    try:
        handle = ray.get_actor(names.NOTIFIER, namespace=namespace)
    except ValueError:
        return NullNotifyClient()
    return RayNotifyClient(handle)
