"""The camera fleet: which workers should run, which do, and the status they report (no Ray).

`Fleet` compares each camera row's resolved config with the worker that runs and has a
`CameraLauncher` start, stop or restart it; it keeps the latest `CameraState` of every worker
and persists status changes to the camera row (the fallback when heartbeats stop). The
WorkerManager actor (iris/actors/manager.py) only wires it to Ray: its launcher creates and
kills `camera-<id>` actors.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import Literal, Protocol

from sqlalchemy.engine import Engine
from sqlmodel import Session

from iris import names
from iris.actors.config import CameraConfig
from iris.db import cameras as db
from iris.db.tables import Camera
from iris.messages import CameraState
from iris.settings import Settings

log = logging.getLogger("iris.manager")

PERSIST_EVERY_S = 10.0
"""An unchanged status is written again at most this often (it refreshes `last_seen`)."""

SyncOutcome = Literal["started", "restarted", "stopped", "unchanged"]


class CameraLauncher(Protocol):
    """Starts and stops one camera's worker process."""

    def start(self, config: CameraConfig) -> None:
        """Start a worker for `config` (replacing any leftover of the same camera)."""

    def stop(self, camera_id: int) -> None:
        """Stop the camera's worker: cleanly within its bound, else killed; returns when gone."""


class Fleet:
    """Desired-vs-running for every camera, and their reported states.

    Args:
        engine: the database holding the camera rows.
        settings: global settings merged into each camera's config.
        launcher: what starts and stops workers.
        clock: monotonic seconds (status persistence pacing).
        wall: epoch seconds (a starting worker's `last_seen`).
    """

    def __init__(self, engine: Engine, settings: Settings, launcher: CameraLauncher, *,
                 clock: Callable[[], float] = time.monotonic,
                 wall: Callable[[], float] = time.time) -> None:
        self._engine = engine
        self._settings = settings
        self._launcher = launcher
        self._clock = clock
        self._wall = wall
        self._lock = threading.RLock()
        self._running: dict[int, CameraConfig] = {}
        self._states: dict[int, CameraState] = {}
        self._persisted: dict[int, tuple[str, float]] = {}

    # ------------------------------------------------------------------ lifecycle
    def desired(self, camera_id: int) -> CameraConfig | None:
        """The config the camera's worker should run with; None when it should not run."""
        with Session(self._engine) as session:
            camera = session.get(Camera, camera_id)
            if camera is None or not camera.enabled:
                return None
            return CameraConfig.resolve(camera, self._settings)

    def sync(self, camera_id: int) -> SyncOutcome:
        """Match the camera's worker to its row."""
        with self._lock:
            desired = self.desired(camera_id)
            current = self._running.get(camera_id)
            if current is not None and desired == current:
                return "unchanged"
            if current is not None:
                self._stop(camera_id)
            if desired is None:
                return "stopped" if current is not None else "unchanged"
            self._start(desired)
            return "restarted" if current is not None else "started"

    def reconcile(self) -> list[int]:
        """Bring every camera in the DB (and every worker) in line; returns running ids."""
        with Session(self._engine) as session:
            ids = db.camera_ids(session)
        for camera_id in sorted(set(ids) | set(self._running)):
            self.sync(camera_id)
        return sorted(self._running)

    def _start(self, config: CameraConfig) -> None:
        self._launcher.start(config)
        self._running[config.camera_id] = config
        self._states[config.camera_id] = CameraState(
            status="connecting", last_seen=self._wall(), name=config.name)
        log.info("camera %s (%s): worker started", config.camera_id, config.name)

    def _stop(self, camera_id: int) -> None:
        config = self._running.pop(camera_id)
        self._states.pop(camera_id, None)
        self._launcher.stop(camera_id)
        self.stopped(camera_id, config)

    def release_all(self, lock_timeout_s: float) -> dict[int, CameraConfig]:
        """Forget every worker at once (a shutdown stops them); returns what ran.

        A sync may hold the lock for a whole restart: past `lock_timeout_s` the workers are
        taken anyway.
        """
        locked = self._lock.acquire(timeout=lock_timeout_s)
        try:
            running, self._running = self._running, {}
            self._states.clear()
        finally:
            if locked:
                self._lock.release()
        return running

    def stopped(self, camera_id: int, config: CameraConfig) -> None:
        """Record that the camera's worker is gone: offline in its row."""
        self.persist(camera_id, "offline", None, force=True)
        log.info("camera %s (%s): worker stopped", camera_id, config.name)

    # ------------------------------------------------------------------ heartbeats
    def heartbeat(self, camera_id: int, state: CameraState) -> bool:
        """Keep a worker's state; False tells a worker nobody owns it any more."""
        with self._lock:
            config = self._running.get(camera_id)
            if config is None:
                return False
            self._states[camera_id] = state.named(config.name)
        self.persist(camera_id, state.status, state.reason)
        return True

    def states(self) -> dict[int, CameraState]:
        """The latest state of every running worker."""
        with self._lock:
            return dict(self._states)

    def workers(self) -> dict[int, str]:
        """Running camera ids → their actor names."""
        with self._lock:
            return {camera_id: names.camera_actor(camera_id) for camera_id in self._running}

    def persist(self, camera_id: int, status: str, reason: str | None,
                force: bool = False) -> None:
        """Write the status to the camera's row: on change, or every `PERSIST_EVERY_S`."""
        last = self._persisted.get(camera_id)
        now = self._clock()
        if not force and last is not None and last[0] == status and now - last[1] < PERSIST_EVERY_S:
            return
        self._persisted[camera_id] = (status, now)
        try:
            with Session(self._engine) as session:
                db.record_status(session, camera_id=camera_id, status=status, reason=reason)
        except Exception as exc:  # noqa: BLE001 - status persistence must never kill heartbeats
            log.warning("camera %s: could not persist status: %s", camera_id, exc)
