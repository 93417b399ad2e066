"""`Runtime` over Ray: the one place where a route's call reaches an actor or a deployment.

The Detector and Embedder are found once the WorkerManager deployed them (with the first
camera, iris/serve/models.py); named actors (the WorkerManager, cameras, the IdentityManager,
the HLS session manager) are looked up by name (`iris.names`) on each use, so the ingress
survives their restarts. Every actor error and
timeout becomes `ServiceUnavailable` here (logged with its cause), except the identity layer's
own refusals (`IdentityNotFound`, `ValueError`), which pass through unwrapped.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncGenerator, Awaitable, Callable, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
import ray
from ray.exceptions import RayActorError
from starlette.concurrency import run_in_threadpool

from iris import names
from iris.identity import IdentityNotFound, OpResult
from iris.layout import pack_dir
from iris.messages import CameraState, RecordResult
from iris.serve.errors import (
    HLS_NOT_RESPONDING,
    IDENTITY_RESTARTED,
    RECORD_FAILED,
    RETRY_AFTER_S,
    CameraNotRunning,
    ServiceUnavailable,
)
from iris.serve.live_calls import CameraCalls
from iris.serve.model_handles import STANDBY_REASON, model_handle, undeployed_detector_info
from iris.serve.runtime import OfflineRuntime
from iris.settings import Settings

if TYPE_CHECKING:
    from ray.serve.handle import DeploymentHandle

    from iris.actors.hls import EnsureResult
    from iris.live.overlay import Overlay
    from iris.live.types import Fragment, LiveInit, LiveUnavailable
    from iris.models.face_types import FaceHit

log = logging.getLogger("iris.runtime")

CALL_TIMEOUT_S = 30.0
RECORD_TIMEOUT_S = 60.0
MODEL_TIMEOUT_S = 60.0
INFO_TIMEOUT_S = 10.0
HLS_MARGIN_S = 5.0
STATES_TTL_S = 0.25
INFO_TTL_S = 5.0
WORKERS_UNAVAILABLE = "The camera workers are not answering; the change is saved."
GALLERY_UNAVAILABLE = "The people gallery could not be reloaded; it reloads when it restarts."


class RayRuntime:
    """The Ray services as typed operations.

    Args:
        settings: the instance's settings (namespace, app name, HLS).
        fallback: runs identity corrections in-process while no IdentityManager runs.
        dashboard_url: the Ray dashboard, when one runs.
    """

    def __init__(self, settings: Settings, *, fallback: OfflineRuntime,
                 dashboard_url: str | None = None) -> None:
        self._settings = settings
        self._namespace = settings.ray_namespace
        self._models: dict[str, DeploymentHandle] = {}  # by deployment, once deployed
        self._fallback = fallback
        self._dashboard_url = dashboard_url
        self._hls: Any | None = None
        self._cameras = CameraCalls(self._namespace)  # live long-polls, handles kept
        self._states: tuple[float, dict[int, CameraState]] = (0.0, {})
        self._detector_info: tuple[float, dict[str, Any]] = (0.0, {})
        self._face_info: tuple[float, dict[str, Any]] = (0.0, {})

    @property
    def dashboard_url(self) -> str | None:
        return self._dashboard_url

    def _named(self, name: str) -> Any | None:
        """The named actor's handle (typed Any: Ray's handle types do not carry methods)."""
        try:
            return ray.get_actor(name, namespace=self._namespace)
        except ValueError:  # not running (never started, or stopped)
            return None

    # ------------------------------------------------------------------ camera workers
    def sync_camera(self, camera_id: int) -> None:
        manager = self._named(names.WORKER_MANAGER)
        try:
            if manager is None:
                raise RuntimeError(f"no {names.WORKER_MANAGER} actor")
            ray.get(manager.sync.remote(camera_id), timeout=CALL_TIMEOUT_S)
        except Exception as exc:
            log.warning("camera %s: worker sync failed: %s", camera_id, exc)
            raise ServiceUnavailable(WORKERS_UNAVAILABLE) from exc
        finally:
            self._states = (0.0, {})

    def worker_states(self) -> dict[int, CameraState]:
        fetched_at, states = self._states
        if time.monotonic() - fetched_at < STATES_TTL_S:
            return states
        manager = self._named(names.WORKER_MANAGER)
        if manager is None:
            return {}
        try:
            states = ray.get(manager.states.remote(), timeout=5)
        except Exception as exc:  # noqa: BLE001 - manager restarting: fall back to persisted rows
            log.warning("worker states unavailable: %s", exc)
            return {}
        self._states = (time.monotonic(), states)
        return states

    def camera_running(self, camera_id: int) -> bool:
        return self._named(names.camera_actor(camera_id)) is not None

    async def latest_jpeg(self, camera_id: int, after_seq: int,
                          wait_s: float) -> tuple[int, bytes] | None:
        return await self._cameras.latest_jpeg(camera_id, after_seq, wait_s)

    async def snapshot_jpeg(self, camera_id: int, wait_s: float) -> bytes | None:
        return await self._cameras.snapshot_jpeg(camera_id, wait_s)

    async def live_init(self, camera_id: int, wait_s: float) -> LiveInit | LiveUnavailable:
        return await self._cameras.live_init(camera_id, wait_s)

    def live_follow(self, camera_id: int, epoch: int, after_seq: int, wait_s: float,
                    span_s: float) -> AsyncGenerator[list[Fragment] | None, None]:
        return self._cameras.live_follow(camera_id, epoch, after_seq, wait_s, span_s)

    async def live_overlay(self, camera_id: int, after_seq: int,
                           wait_s: float) -> Overlay | None:
        return await self._cameras.live_overlay(camera_id, after_seq, wait_s)

    async def record_stop(self, camera_id: int, started_at: float) -> RecordResult:
        actor = self._named(names.camera_actor(camera_id))
        if actor is None:
            raise CameraNotRunning(camera_id)
        try:
            result: RecordResult = await asyncio.wait_for(
                actor.record_stop.remote(started_at), RECORD_TIMEOUT_S)
        except Exception as exc:  # noqa: BLE001 - surfaced to the operator, never a bare 500
            # The camera's traceback goes to the log; the client learns what happened, no more.
            log.warning("camera %s: manual recording failed: %r", camera_id, exc)
            raise ServiceUnavailable(RECORD_FAILED) from None
        return result

    # ------------------------------------------------------------------ models
    def _model(self, deployment: str) -> DeploymentHandle | None:
        """The model's handle once it is deployed (kept: it outlives replica restarts)."""
        handle = self._models.get(deployment)
        if handle is None:
            handle = model_handle(self._settings, deployment)
            if handle is not None:
                self._models[deployment] = handle
        return handle

    async def _started_model(self, deployment: str) -> DeploymentHandle:
        """The model's handle, asking the WorkerManager to deploy the models first if need be.

        Looking a handle up asks Serve's controller (blocking): off the event loop.
        """
        handle = await run_in_threadpool(self._model, deployment)
        if handle is not None:
            return handle
        manager = self._named(names.WORKER_MANAGER)
        if manager is None:
            raise RuntimeError(f"no {names.WORKER_MANAGER} actor to start the models")
        await asyncio.wait_for(manager.start_models.remote(), CALL_TIMEOUT_S)
        handle = await run_in_threadpool(self._model, deployment)
        if handle is None:
            raise RuntimeError(f"{deployment} not deployed")
        return handle

    def detector_info(self) -> dict[str, Any]:
        fetched_at, info = self._detector_info
        if info and time.monotonic() - fetched_at < INFO_TTL_S:
            return info
        detector = self._model(names.DETECTOR)
        if detector is None:  # no camera started the models yet
            return undeployed_detector_info(self._settings)
        try:
            info = detector.info.remote().result(timeout_s=INFO_TIMEOUT_S)
        except Exception as exc:  # noqa: BLE001 - reported as unavailable, never a 500
            log.warning("detector deployment not reachable: %s", exc)
            return {"available": False, "backend": self._settings.detector_backend,
                    "reason": "detector deployment not reachable (see the log)"}
        self._detector_info = (time.monotonic(), info)
        return info

    def face_index_info(self) -> dict[str, Any]:
        """Recognizer availability (Embedder) and the enrolled-face index size (identity)."""
        fetched_at, cached = self._face_info
        if cached and time.monotonic() - fetched_at < INFO_TTL_S:
            return cached
        info: dict[str, Any] = {"available": False, "status": "unavailable", "count": 0}
        identity = self._named(names.IDENTITY_MANAGER)
        try:
            embedder = self._model(names.EMBEDDER)
            if embedder is None:
                info["reason"] = STANDBY_REASON
                # Standby only where the pack is there: without one, the first camera's
                # Embedder would say the faces are unavailable.
                info["standby"] = pack_dir(self._settings.face_model_root_path,
                                           self._settings.face_model_pack).is_dir()
            else:
                faces = embedder.info.remote().result(timeout_s=INFO_TIMEOUT_S)
                info["available"] = bool(faces.get("faces_available"))
                info["reason"] = faces.get("reason")
            if identity is not None:
                stats = ray.get(identity.stats.remote(), timeout=INFO_TIMEOUT_S)
                info["status"] = "ready"
                info["count"] = int(stats.get("people_faces", 0))
                info["galleries"] = stats
        except Exception as exc:  # noqa: BLE001 - reported, never a 500
            log.warning("identity layer not reachable: %s", exc)
            info["reason"] = "identity layer not reachable (see the log)"
        self._face_info = (time.monotonic(), info)
        return info

    async def detect_faces(self, image: np.ndarray) -> list[FaceHit]:
        try:
            embedder = await self._started_model(names.EMBEDDER)
            info = await asyncio.wait_for(embedder.info.remote(), MODEL_TIMEOUT_S)
            if not info.get("faces_available"):
                reason = info.get("reason") or "no face models are loaded"
                raise ServiceUnavailable(f"Face recognizer unavailable: {reason}")
            hits: list[FaceHit] = await asyncio.wait_for(
                embedder.faces.remote(image), MODEL_TIMEOUT_S)
        except ServiceUnavailable:
            raise
        except Exception as exc:  # noqa: BLE001 - replica down, timeout or models failing
            log.warning("enrollment: face recognizer call failed: %s", exc)
            raise ServiceUnavailable(
                f"Face recognizer unavailable: {type(exc).__name__}") from exc
        return list(hits)

    # ------------------------------------------------------------------ identities
    def identity_stats(self) -> dict[str, Any] | None:
        return self._stats(names.IDENTITY_MANAGER)

    def identity_running(self) -> bool:
        return self._named(names.IDENTITY_MANAGER) is not None

    def notify_stats(self) -> dict[str, Any] | None:
        return self._stats(names.NOTIFIER)

    def _stats(self, actor: str) -> dict[str, Any] | None:
        """A singleton actor's `stats()`; None while it is not running (or restarting)."""
        handle = self._named(actor)
        if handle is None:
            return None
        try:
            stats: dict[str, Any] = ray.get(handle.stats.remote(), timeout=INFO_TIMEOUT_S)
        except Exception as exc:  # noqa: BLE001 - shown as not running while it restarts
            log.warning("%s stats unavailable: %s", actor, exc)
            return None
        return stats

    def notify_cameras_changed(self) -> None:
        handle = self._named(names.NOTIFIER)
        if handle is None:
            return
        try:
            handle.cameras_changed.remote()  # fire and forget
        except Exception as exc:  # noqa: BLE001 - the next sync republishes anyway
            log.warning("notifier not told of a camera change: %s", exc)

    async def _correct(self, on_actor: Callable[[Any], Awaitable[OpResult]],
                       offline: Callable[[], Awaitable[OpResult]]) -> OpResult:
        """Run a correction on the IdentityManager, else in-process; errors mapped once."""
        handle = await run_in_threadpool(self._named, names.IDENTITY_MANAGER)
        if handle is None:
            result = await offline()
            # The actor may have come up while the fallback wrote: no stale gallery.
            late = await run_in_threadpool(self._named, names.IDENTITY_MANAGER)
            if late is not None:
                await late.rebuild.remote()
            return result
        try:
            return await on_actor(handle)
        except Exception as exc:
            cause = getattr(exc, "cause", None) or exc  # Ray wraps what the actor raised
            if isinstance(cause, IdentityNotFound | ValueError):
                raise cause from exc
            if isinstance(exc, RayActorError):  # died or unreachable (ActorUnavailableError)
                raise ServiceUnavailable(IDENTITY_RESTARTED) from exc
            raise

    async def identity_merge(self, target_id: int, source_ids: Sequence[int]) -> OpResult:
        return await self._correct(
            lambda actor: actor.merge.remote(target_id, list(source_ids)),
            lambda: self._fallback.identity_merge(target_id, source_ids))

    async def identity_split(self, identity_id: int, *, sighting_ids: Sequence[int] | None,
                             auto: bool, new_name: str | None) -> OpResult:
        return await self._correct(
            lambda actor: actor.split.remote(identity_id, sighting_ids=sighting_ids, auto=auto,
                                             new_name=new_name),
            lambda: self._fallback.identity_split(identity_id, sighting_ids=sighting_ids,
                                                  auto=auto, new_name=new_name))

    async def identity_delete(self, identity_ids: Sequence[int]) -> OpResult:
        return await self._correct(
            lambda actor: actor.delete.remote(list(identity_ids)),
            lambda: self._fallback.identity_delete(identity_ids))

    async def reload_people(self) -> None:
        handle = await run_in_threadpool(self._named, names.IDENTITY_MANAGER)
        if handle is None:  # not running: it builds the gallery from the DB when it starts
            return
        try:
            await asyncio.wait_for(handle.reload_people.remote(), CALL_TIMEOUT_S)
        except Exception as exc:
            log.warning("people gallery reload failed: %s", exc)
            raise ServiceUnavailable(GALLERY_UNAVAILABLE) from exc

    # ------------------------------------------------------------------ live with sound
    def _hls_manager(self) -> Any:
        """The HLS session manager, created on first use (num_cpus=0, one per instance)."""
        if self._hls is None:
            from iris.actors.hls_actor import HlsActor

            self._hls = HlsActor.options(  # type: ignore[attr-defined]
                name=names.HLS_MANAGER, namespace=self._namespace, get_if_exists=True
            ).remote(self._settings)
        return self._hls

    async def hls_ensure(self, camera_id: int, wait_s: float) -> EnsureResult:
        try:
            result: EnsureResult = await asyncio.wait_for(
                self._hls_manager().ensure.remote(camera_id, wait_s), wait_s + HLS_MARGIN_S)
        except Exception as exc:  # noqa: BLE001 - actor restarting or unreachable
            log.warning("camera %s: HLS session manager unavailable: %s", camera_id, exc)
            raise ServiceUnavailable(HLS_NOT_RESPONDING, RETRY_AFTER_S) from exc
        return result

    async def hls_running(self) -> set[int] | None:
        try:
            listed = await asyncio.wait_for(self._hls_manager().sessions.remote(),
                                            CALL_TIMEOUT_S)
        except Exception as exc:  # noqa: BLE001 - keep every claim: refusing is the safe side
            log.warning("HLS session list unavailable: %s", exc)
            return None
        return {int(entry["camera_id"]) for entry in listed}

    def hls_close(self, camera_id: int) -> bool:
        actor = self._named(names.HLS_MANAGER)
        if actor is None:  # no session was ever started
            return False
        try:
            return bool(ray.get(actor.close.remote(camera_id), timeout=CALL_TIMEOUT_S))
        except Exception as exc:  # noqa: BLE001 - actor restarting or unreachable
            log.warning("camera %s: closing the HLS session failed: %s", camera_id, exc)
            raise ServiceUnavailable(HLS_NOT_RESPONDING, RETRY_AFTER_S) from exc
