"""WorkerManager: one named actor that owns the lifecycle of every camera actor.

A thin shell around `Fleet` (iris/actors/fleet.py), which holds the logic: routes call
`sync(camera_id)` after any change of a camera row and the fleet starts, stops or restarts the
`camera-<id>` actor through this shell's launcher; camera actors heartbeat here about once a
second and the ingress reads `states()`. `stop_all` stops every camera at once within a budget
and kills what has not stopped by then, so no source (a stuck stream, a FIFO, a slow disk) can
hold a shutdown hostage.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterable
from typing import Any

import ray

from iris import names
from iris.actors.camera import STOP_TIMEOUT_S, CameraActor
from iris.actors.config import CameraConfig
from iris.actors.fleet import Fleet, SyncOutcome
from iris.actors.notifier import find_notifier
from iris.db.engine import connect
from iris.messages import CameraState
from iris.recording.runner import RetentionRunner
from iris.settings import Settings

log = logging.getLogger("iris.manager")

#: Deploys the models not deployed yet; their handles by deployment name.
StartModels = Callable[[Settings], dict[str, Any]]

#: Of a `stop_all` budget, the part kept for killing the cameras that did not stop and for
#: persisting their status; the rest is each camera's share to stop cleanly.
KILL_MARGIN_S = 2.0


class ActorLauncher:
    """The fleet's `CameraLauncher`: creates and kills `camera-<id>` actors.

    Runs inside the WorkerManager actor (each camera gets the manager's handle for its
    heartbeats). The first camera deploys the models with `start_models`; the identity
    handle, when not given, is looked up by name once.
    """

    def __init__(self, settings: Settings, identity: Any, start_models: StartModels) -> None:
        self._settings = settings
        self._namespace = settings.ray_namespace
        self._identity = identity
        self._start_models = start_models
        self._models: dict[str, Any] = {}  # deployment → handle, once deployed
        self._models_lock = threading.Lock()  # one deployment of the models at a time
        self._handles: dict[int, Any] = {}  # actor handles

    def start(self, config: CameraConfig) -> None:
        """Create the camera's actor (after killing any leftover of that name)."""
        name = names.camera_actor(config.camera_id)
        self._kill_leftover(name)
        detector, embedder, identity = self._peers()
        self._handles[config.camera_id] = CameraActor.options(  # type: ignore[attr-defined]
            name=name,
            namespace=self._namespace,
            max_restarts=-1,
            max_task_retries=-1,
            max_concurrency=64,
            num_cpus=self._settings.camera_num_cpus,
            resources=dict(self._settings.camera_resources),
            scheduling_strategy="SPREAD" if self._settings.camera_spread else "DEFAULT",
        ).remote(config, ray.get_runtime_context().current_actor, detector, embedder, identity)

    def stop(self, camera_id: int) -> None:
        """Stop the camera's actor cleanly (bounded), kill it, wait until its name is free."""
        handle = self._handles.pop(camera_id)
        try:
            ray.get(handle.stop.remote(STOP_TIMEOUT_S), timeout=STOP_TIMEOUT_S + 2)
        except Exception as exc:  # noqa: BLE001 - a dead or stuck worker is killed below anyway
            log.warning("camera %s: clean stop failed (%s); killing", camera_id, exc)
        ray.kill(handle, no_restart=True)
        self._wait_name_free(names.camera_actor(camera_id))

    def release(self, camera_ids: Iterable[int]) -> dict[int, Any]:
        """Hand over the handles of these cameras (a shutdown stops them all at once)."""
        return {cid: self._handles.pop(cid) for cid in camera_ids if cid in self._handles}

    def models(self) -> dict[str, Any]:
        """The model deployments' handles, deploying the models not deployed yet."""
        with self._models_lock:
            if not set(names.MODELS) <= self._models.keys():
                self._models = self._start_models(self._settings)
            return self._models

    def _peers(self) -> tuple[Any, Any, Any]:
        """The Detector, Embedder and IdentityManager handles every camera gets."""
        models = self.models()
        if self._identity is None:
            self._identity = ray.get_actor(names.IDENTITY_MANAGER, namespace=self._namespace)
        return models.get(names.DETECTOR), models.get(names.EMBEDDER), self._identity

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


@ray.remote(num_cpus=0, max_restarts=-1, max_task_retries=-1,  # type: ignore[call-overload]
            max_concurrency=32)
class WorkerManager:
    """Starts/stops `CameraActor`s to match the DB and collects their heartbeats.

    Args:
        settings: the instance's settings.
        identity: the IdentityManager's handle (handed to every camera); looked up by name
            when not given.
        start_models: deploys the model deployments not deployed yet and returns their
            handles by name (`iris.serve.models.start_models`, given by `iris up`: the
            actors sit below the Serve code).
    """

    def __init__(self, settings: Settings, identity: Any, start_models: StartModels) -> None:
        self._settings = settings
        self._identity = identity
        self._engine = connect(settings.resolved_database_url)
        self._cameras = ActorLauncher(settings, identity, start_models)
        self._fleet = Fleet(self._engine, settings, self._cameras)
        self._retention = RetentionRunner(self._engine, settings).start()

    # ------------------------------------------------------------------ lifecycle
    def reconcile(self) -> list[int]:
        """Bring every camera in the DB to its desired state; returns running camera ids."""
        running = self._fleet.reconcile()
        find_notifier(self._settings.ray_namespace).cameras_changed()
        return running

    def sync(self, camera_id: int) -> SyncOutcome:
        """Match the worker to the row: "started", "restarted", "stopped" or "unchanged"."""
        outcome = self._fleet.sync(camera_id)
        # Any change of the row (a rename, new trigger labels, a delete) changes discovery.
        find_notifier(self._settings.ray_namespace).cameras_changed()
        return outcome

    def start_models(self) -> None:
        """Deploy the models now (the API needs one before any camera started them)."""
        self._cameras.models()

    def stop_all(self, timeout_s: float | None = None) -> list[int]:
        """Stop every camera worker at once, within `timeout_s` (clean shutdown).

        Every camera gets the budget less `KILL_MARGIN_S` to finish its event and segment;
        whatever has not stopped by then is killed. Returns the stopped camera ids.

        Args:
            timeout_s: the whole budget; default the `stop_timeout_seconds` setting.
        """
        budget = self._settings.stop_timeout_seconds if timeout_s is None else timeout_s
        share = max(0.5, budget - KILL_MARGIN_S)
        workers = self._fleet.release_all(lock_timeout_s=min(1.0, share / 4))
        handles = self._cameras.release(workers)
        pending = {handle.stop.remote(share): camera_id for camera_id, handle in handles.items()}
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
        for camera_id, config in workers.items():
            if camera_id in handles:
                ray.kill(handles[camera_id], no_restart=True)
            self._fleet.stopped(camera_id, config)
        return sorted(workers)

    # ------------------------------------------------------------------ heartbeats
    def heartbeat(self, camera_id: int, state: CameraState) -> bool:
        """Record a camera's live state; False tells a worker nobody owns it any more."""
        return self._fleet.heartbeat(camera_id, state)

    def states(self) -> dict[int, CameraState]:
        """Latest state of every running camera worker."""
        return self._fleet.states()

    def workers(self) -> dict[int, str]:
        """Running camera ids → actor names (for `iris status` and tests)."""
        return self._fleet.workers()
