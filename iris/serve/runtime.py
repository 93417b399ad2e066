"""What the API needs from the running system, behind a small Protocol.

`create_api` takes a `Runtime`; in production it is `RayRuntime` (iris/serve/ray_runtime.py),
which talks to the named actors. `OfflineRuntime` is an API with no camera workers running
(e.g. while Ray is down, or in the plain unit tests of validation and auth).
"""

from __future__ import annotations

from typing import Any, Protocol


class Runtime(Protocol):
    """Worker control and live state as seen by the ingress."""

    def sync_camera(self, camera_id: int) -> None:
        """Start, stop or restart the camera's worker so it matches its DB row."""

    def worker_states(self) -> dict[int, dict[str, Any]]:
        """Latest heartbeat per camera id: status, last_seen (epoch s), fps, detector, reason."""

    def camera(self, camera_id: int) -> Any | None:
        """The camera's actor handle (awaitable method calls), or None when none runs."""

    def detector_info(self) -> dict[str, Any]:
        """Detector availability, device, providers, class names and default triggers."""

    def face_index_info(self) -> dict[str, Any]:
        """Face recognizer availability and the FAISS face index status and size."""

    def identity(self) -> Any | None:
        """The `IdentityManager` actor handle (awaitable calls), or None when not running."""

    def embedder(self) -> Any | None:
        """The `Embedder` deployment handle (awaitable calls), or None when not deployed."""

    def identity_stats(self) -> dict[str, Any] | None:
        """Gallery sizes and sightings assigned, or None when the identity layer is down."""

    def hls(self) -> Any | None:
        """The HLS session manager's actor handle, or None when HLS cannot run here."""

    def stop_hls(self, camera_id: int) -> bool:
        """Stop the camera's HLS session (camera disabled or deleted); False when none ran."""

    @property
    def dashboard_url(self) -> str | None:
        """The Ray dashboard, when one runs."""


class OfflineRuntime:
    """No workers: every camera reads as offline and nothing is started."""

    def sync_camera(self, camera_id: int) -> None:
        return None

    def worker_states(self) -> dict[int, dict[str, Any]]:
        return {}

    def camera(self, camera_id: int) -> Any | None:
        return None

    def detector_info(self) -> dict[str, Any]:
        return {"available": False, "reason": "Ray runtime not running"}

    def face_index_info(self) -> dict[str, Any]:
        return {"available": False, "status": "unavailable", "count": 0}

    def identity(self) -> Any | None:
        return None

    def embedder(self) -> Any | None:
        return None

    def identity_stats(self) -> dict[str, Any] | None:
        return None

    def hls(self) -> Any | None:
        return None

    def stop_hls(self, camera_id: int) -> bool:
        return False

    @property
    def dashboard_url(self) -> str | None:
        return None
