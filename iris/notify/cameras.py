"""The cameras notifications are about: name, trigger labels, status; reloaded from the DB."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from iris.actors.config import CameraConfig
from iris.db.tables import Camera
from iris.settings import Settings

log = logging.getLogger("iris.notify")

#: Cameras trigger on motion while no detector is available: Home Assistant sees that too.
MOTION_LABEL = "motion"
RETRY_S = 5.0


@dataclass(frozen=True)
class CameraInfo:
    """What Home Assistant discovery and the status topic need to know about a camera."""

    id: int
    name: str
    labels: tuple[str, ...]  # trigger labels, then `motion`: one occupancy sensor each
    status: str = "offline"  # the persisted status until the camera reports its own
    enabled: bool = True  # a disabled camera reads offline, with nothing in view


def camera_info(camera: Camera, settings: Settings) -> CameraInfo:
    """A camera row as notifications see it (trigger labels from its resolved config)."""
    config = CameraConfig.resolve(camera, settings)
    labels = tuple(dict.fromkeys((*config.trigger_classes, MOTION_LABEL)))
    return CameraInfo(id=config.camera_id, name=config.name, labels=labels,
                      status=camera.status if camera.enabled else "offline",
                      enabled=camera.enabled)


def load_cameras(engine: Engine, settings: Settings) -> list[CameraInfo]:
    """Every camera in the database, by id."""
    with Session(engine) as session:
        rows = session.exec(select(Camera).order_by(Camera.id)).all()  # type: ignore[arg-type]
    return [camera_info(row, settings) for row in rows]


class CameraReloader:
    """Reloads the camera list off the caller's thread whenever `request` is called.

    Requests that arrive while a load runs are folded into one more load; a failed load (the
    database away) is retried every `RETRY_S` seconds until one succeeds.
    """

    def __init__(self, load: Callable[[], Sequence[CameraInfo]],
                 apply: Callable[[Sequence[CameraInfo]], None],
                 retry_s: float = RETRY_S) -> None:
        self._load, self._apply, self._retry_s = load, apply, retry_s
        self._wanted = threading.Event()
        self._closed = threading.Event()
        self._thread = threading.Thread(target=self._run, name="notify-cameras", daemon=True)
        self._thread.start()

    def request(self) -> None:
        """Reload soon; returns at once."""
        self._wanted.set()

    def close(self) -> None:
        """Stop reloading (a load under way finishes in the background)."""
        self._closed.set()
        self._wanted.set()

    def _run(self) -> None:
        while True:
            self._wanted.wait()
            if self._closed.is_set():
                return
            self._wanted.clear()
            try:
                self._apply(self._load())
            except Exception as exc:  # noqa: BLE001 - the next round retries
                log.warning("could not load the cameras for notifications: %s", exc)
                if self._closed.wait(self._retry_s):
                    return
                self._wanted.set()
