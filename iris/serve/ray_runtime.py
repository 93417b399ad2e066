"""`Runtime` backed by the named Ray actors and Serve deployments (used inside the ingress)."""

from __future__ import annotations

import logging
import time
from typing import Any

import ray

from iris.actors.manager import MANAGER_NAME
from iris.settings import Settings

log = logging.getLogger("iris.runtime")

CALL_TIMEOUT_S = 30.0
STATES_TTL_S = 0.25
DETECTOR_INFO_TTL_S = 5.0


class RayRuntime:
    """Looks the actors up by name on first use, so replicas survive actor restarts."""

    def __init__(self, settings: Settings, dashboard_url: str | None = None) -> None:
        self._settings = settings
        self._namespace = settings.ray_namespace
        self._dashboard_url = dashboard_url
        self._states: tuple[float, dict[int, dict[str, Any]]] = (0.0, {})
        self._hls: Any | None = None
        self._detector_info: tuple[float, dict[str, Any]] = (0.0, {})
        self._face_info: tuple[float, dict[str, Any]] = (0.0, {})

    @property
    def dashboard_url(self) -> str | None:
        return self._dashboard_url

    def manager(self) -> Any:
        return ray.get_actor(MANAGER_NAME, namespace=self._namespace)

    def camera(self, camera_id: int) -> Any | None:
        """The camera's actor handle, or None when no worker runs."""
        try:
            return ray.get_actor(f"camera-{camera_id}", namespace=self._namespace)
        except ValueError:
            return None

    def sync_camera(self, camera_id: int) -> None:
        ray.get(self.manager().sync.remote(camera_id), timeout=CALL_TIMEOUT_S)
        self._states = (0.0, {})

    def worker_states(self) -> dict[int, dict[str, Any]]:
        fetched_at, states = self._states
        if time.monotonic() - fetched_at < STATES_TTL_S:
            return states
        try:
            states = ray.get(self.manager().states.remote(), timeout=5)
        except Exception as exc:  # noqa: BLE001 - manager restarting: fall back to persisted rows
            log.warning("worker states unavailable: %s", exc)
            return {}
        self._states = (time.monotonic(), states)
        return states

    def detector_info(self) -> dict[str, Any]:
        fetched_at, info = self._detector_info
        if info and time.monotonic() - fetched_at < DETECTOR_INFO_TTL_S:
            return info
        from ray import serve

        try:
            handle = serve.get_deployment_handle("Detector", app_name=self._settings.serve_app_name)
            info = handle.info.remote().result(timeout_s=10)
        except Exception as exc:  # noqa: BLE001 - reported as unavailable, never a 500
            log.warning("detector deployment not reachable: %s", exc)
            return {"available": False, "backend": self._settings.detector_backend,
                    "reason": "detector deployment not reachable (see the log)"}
        self._detector_info = (time.monotonic(), info)
        return info

    def identity(self) -> Any | None:
        from iris.actors.identity import IDENTITY_MANAGER_NAME

        try:
            return ray.get_actor(IDENTITY_MANAGER_NAME, namespace=self._namespace)
        except ValueError:
            return None

    def embedder(self) -> Any | None:
        from ray import serve

        try:
            return serve.get_deployment_handle("Embedder", app_name=self._settings.serve_app_name)
        except Exception:  # noqa: BLE001 - app without an Embedder (or Serve restarting)
            return None

    def identity_stats(self) -> dict[str, Any] | None:
        handle = self.identity()
        if handle is None:
            return None
        try:
            stats: dict[str, Any] = ray.get(handle.stats.remote(), timeout=10)
        except Exception:  # noqa: BLE001 - left out while the actor restarts
            return None
        return stats

    def face_index_info(self) -> dict[str, Any]:
        """Recognizer availability (Embedder) and the enrolled-face index size (identity)."""
        fetched_at, cached = self._face_info
        if cached and time.monotonic() - fetched_at < DETECTOR_INFO_TTL_S:
            return cached
        info: dict[str, Any] = {"available": False, "status": "unavailable", "count": 0}
        embedder, identity = self.embedder(), self.identity()
        try:
            if embedder is not None:
                faces = embedder.info.remote().result(timeout_s=10)
                info["available"] = bool(faces.get("faces_available"))
                info["reason"] = faces.get("reason")
            if identity is not None:
                stats = ray.get(identity.stats.remote(), timeout=10)
                info["status"] = "ready"
                info["count"] = int(stats.get("people_faces", 0))
                info["galleries"] = stats
        except Exception as exc:  # noqa: BLE001 - reported, never a 500
            log.warning("identity layer not reachable: %s", exc)
            info["reason"] = "identity layer not reachable (see the log)"
        self._face_info = (time.monotonic(), info)
        return info

    def hls(self) -> Any:
        """The `HlsManager` actor, created on first use (owned by this replica, num_cpus=0)."""
        if self._hls is None:
            from iris.actors.hls_actor import HLS_ACTOR_NAME, HlsActor

            self._hls = HlsActor.options(  # type: ignore[attr-defined]
                name=HLS_ACTOR_NAME, namespace=self._namespace, get_if_exists=True
            ).remote(self._settings)
        return self._hls

    def stop_hls(self, camera_id: int) -> bool:
        """Stop the camera's HLS session if one runs (call on camera disable and delete)."""
        from iris.actors.hls_actor import HLS_ACTOR_NAME

        try:
            actor = ray.get_actor(HLS_ACTOR_NAME, namespace=self._namespace)
        except ValueError:  # no session was ever started
            return False
        return bool(ray.get(actor.close.remote(camera_id), timeout=CALL_TIMEOUT_S))
