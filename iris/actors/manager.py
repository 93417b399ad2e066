"""WorkerManager: one named actor that owns the lifecycle of every camera actor.

Routes call `sync(camera_id)` after any change of a camera row; the manager compares the row's
resolved config with what runs and starts, stops or restarts the `camera-<id>` actor. Camera
actors heartbeat here about once a second; the ingress reads `states()`. `stop_all` stops every
camera at once within a budget and kills what has not stopped by then, so no source (a stuck
stream, a FIFO, a slow disk) can hold a shutdown hostage.
"""

from __future__ import annotations

import logging
import threading
import time
from typing import Any

import ray
from sqlalchemy import select
from sqlmodel import Session, col

from iris.actors.camera import STOP_TIMEOUT_S, CameraActor
from iris.actors.config import CameraConfig
from iris.db.engine import make_engine
from iris.db.tables import Camera
from iris.db.types import utcnow
from iris.settings import Settings

log = logging.getLogger("iris.manager")

MANAGER_NAME = "WorkerManager"
PERSIST_EVERY_S = 10.0
#: Of a `stop_all` budget, the part kept for killing the cameras that did not stop and for
#: persisting their status; the rest is each camera's share to stop cleanly.
KILL_MARGIN_S = 2.0


def camera_actor_name(camera_id: int) -> str:
    return f"camera-{camera_id}"


@ray.remote(num_cpus=0, max_restarts=-1, max_task_retries=-1,  # type: ignore[call-overload]
            max_concurrency=32)
class WorkerManager:
    """Starts/stops `CameraActor`s to match the DB and collects their heartbeats."""

    def __init__(self, settings: Settings, identity: Any = None) -> None:
        self._settings = settings
        self._identity = identity  # keeps the IdentityManager alive with the instance
        self._engine = make_engine(settings.resolved_database_url)
        self._lock = threading.RLock()
        self._workers: dict[int, tuple[Any, CameraConfig]] = {}
        self._states: dict[int, dict[str, Any]] = {}
        self._persisted: dict[int, tuple[str, float]] = {}
        self._namespace = settings.ray_namespace
        self._retention = threading.Thread(target=self._retention_loop, name="retention",
                                           daemon=True)
        self._retention.start()

    def _retention_loop(self) -> None:
        from iris.retention import enforce

        cap = int(self._settings.storage_max_gb * 1e9)
        while True:
            time.sleep(self._settings.retention_check_seconds)
            try:
                enforce(self._engine, self._settings.root, cap_bytes=cap)
            except Exception as exc:  # noqa: BLE001 - retry next round; never stop recording
                log.warning("retention pass failed: %s", exc)

    # ------------------------------------------------------------------ lifecycle
    def reconcile(self) -> list[int]:
        """Bring every camera in the DB to its desired state; returns running camera ids."""
        with Session(self._engine) as session:
            ids = list(session.execute(select(col(Camera.id))).scalars())
        for camera_id in set(ids) | set(self._workers):
            self.sync(camera_id)
        return sorted(self._workers)

    def sync(self, camera_id: int) -> str:
        """Match the worker to the row: "started", "restarted", "stopped" or "unchanged"."""
        with self._lock:
            with Session(self._engine) as session:
                camera = session.get(Camera, camera_id)
                desired = (
                    CameraConfig.resolve(camera, self._settings)
                    if camera is not None and camera.enabled
                    else None
                )
            current = self._workers.get(camera_id)
            if current is not None and desired == current[1]:
                return "unchanged"
            if current is not None:
                self._stop(camera_id)
            if desired is None:
                return "stopped" if current is not None else "unchanged"
            self._start(desired)
            return "restarted" if current is not None else "started"

    def stop_all(self, timeout_s: float | None = None) -> list[int]:
        """Stop every camera worker at once, within `timeout_s` (clean shutdown).

        Every camera gets the budget less `KILL_MARGIN_S` to finish its event and segment;
        whatever has not stopped by then is killed. Returns the stopped camera ids.

        Args:
            timeout_s: the whole budget; default the `stop_timeout_seconds` setting.
        """
        budget = self._settings.stop_timeout_seconds if timeout_s is None else timeout_s
        share = max(0.5, budget - KILL_MARGIN_S)
        # A sync may hold the lock for a camera's whole restart: take the workers anyway.
        locked = self._lock.acquire(timeout=min(1.0, share / 4))
        try:
            workers, self._workers = self._workers, {}
            self._states.clear()
        finally:
            if locked:
                self._lock.release()
        pending = {handle.stop.remote(share): camera_id
                   for camera_id, (handle, _) in workers.items()}
        done: list[Any] = []
        late: list[Any] = []
        if pending:
            done, late = ray.wait(list(pending), num_returns=len(pending), timeout=share)
        for ref in done:
            try:
                clean = bool(ray.get(ref, timeout=0))
            except Exception as exc:  # noqa: BLE001 - a dead worker: killed below anyway
                log.warning("camera %s: clean stop failed (%s)", pending[ref], exc)
                continue
            if not clean:
                late.append(ref)
        for ref in late:
            log.warning("camera %s: not stopped within %.1f s; killing", pending[ref], share)
        for camera_id, (handle, config) in workers.items():
            ray.kill(handle, no_restart=True)
            self._persist(camera_id, "offline", None, force=True)
            log.info("camera %s (%s): worker stopped", camera_id, config.name)
        return sorted(workers)

    def _start(self, config: CameraConfig) -> None:
        name = camera_actor_name(config.camera_id)
        self._kill_leftover(name)
        handle = CameraActor.options(  # type: ignore[attr-defined]
            name=name,
            namespace=self._namespace,
            max_restarts=-1,
            max_task_retries=-1,
            max_concurrency=64,
            num_cpus=self._settings.camera_num_cpus,
            resources=dict(self._settings.camera_resources),
            scheduling_strategy="SPREAD" if self._settings.camera_spread else "DEFAULT",
        ).remote(config, ray.get_runtime_context().current_actor)
        self._workers[config.camera_id] = (handle, config)
        self._states[config.camera_id] = {
            "status": "connecting", "last_seen": time.time(), "fps": 0.0,
            "detector": None, "reason": None, "name": config.name,
        }
        log.info("camera %s (%s): worker started", config.camera_id, config.name)

    def _stop(self, camera_id: int) -> None:
        handle, config = self._workers.pop(camera_id)
        self._states.pop(camera_id, None)
        try:
            ray.get(handle.stop.remote(STOP_TIMEOUT_S), timeout=STOP_TIMEOUT_S + 2)
        except Exception as exc:  # noqa: BLE001 - a dead or stuck worker is killed below anyway
            log.warning("camera %s: clean stop failed (%s); killing", camera_id, exc)
        ray.kill(handle, no_restart=True)
        self._wait_name_free(camera_actor_name(camera_id))
        self._persist(camera_id, "offline", None, force=True)
        log.info("camera %s (%s): worker stopped", camera_id, config.name)

    def _kill_leftover(self, name: str) -> None:
        try:
            leftover = ray.get_actor(name, namespace=self._namespace)
        except ValueError:
            return
        ray.kill(leftover, no_restart=True)
        self._wait_name_free(name)

    def _wait_name_free(self, name: str, timeout: float = 15.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                ray.get_actor(name, namespace=self._namespace)
            except ValueError:
                return
            time.sleep(0.05)
        log.warning("actor name %s still taken after %.0fs", name, timeout)

    # ------------------------------------------------------------------ heartbeats
    def heartbeat(self, camera_id: int, state: dict[str, Any]) -> bool:
        """Record a camera's live state; False tells a worker nobody owns it any more."""
        with self._lock:
            if camera_id not in self._workers:
                return False
            self._states[camera_id] = {**state, "name": self._workers[camera_id][1].name}
        self._persist(camera_id, state["status"], state.get("reason"))
        return True

    def states(self) -> dict[int, dict[str, Any]]:
        """Latest heartbeat of every running camera worker."""
        with self._lock:
            return {cid: dict(state) for cid, state in self._states.items()}

    def workers(self) -> dict[int, str]:
        """Running camera ids → actor names (for `iris status` and tests)."""
        with self._lock:
            return {cid: camera_actor_name(cid) for cid in self._workers}

    def _persist(self, camera_id: int, status: str, reason: str | None,
                 force: bool = False) -> None:
        # The persisted row is the staleness fallback; write on change or every few seconds.
        last = self._persisted.get(camera_id)
        now = time.monotonic()
        if not force and last is not None and last[0] == status and now - last[1] < PERSIST_EVERY_S:
            return
        self._persisted[camera_id] = (status, now)
        try:
            with Session(self._engine) as session:
                camera = session.get(Camera, camera_id)
                if camera is None:
                    return
                camera.status = status
                camera.status_reason = reason
                if status == "online":
                    camera.last_seen = utcnow()
                session.add(camera)
                session.commit()
        except Exception as exc:  # noqa: BLE001 - status persistence must never kill heartbeats
            log.warning("camera %s: could not persist status: %s", camera_id, exc)
