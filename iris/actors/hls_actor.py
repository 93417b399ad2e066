"""HlsManager (`iris.names.HLS_MANAGER`): the actor owning every RTSP→HLS session.

The logic is `iris.actors.hls`. The ingress asks it to `ensure` a camera's session on each
playlist request; it reads the camera's source from the DB itself, so the raw
(credential-bearing) URL never leaves the server side, and opens it only if the source policy
of the settings allows it. Sessions write under `<data root>/hls/<camera_id>/`, where the
ingress reads them.
"""

from __future__ import annotations

from typing import Any

import ray
from sqlmodel import Session

from iris.actors.hls import EnsureResult, HlsCapacity, HlsDisabled, HlsRefused, HlsSessions
from iris.db.engine import connect
from iris.db.tables import Camera
from iris.layout import Layout
from iris.media import remove_tree
from iris.settings import Settings
from iris.sources import SourcePolicy


@ray.remote(num_cpus=0, max_restarts=-1, max_concurrency=32)  # type: ignore[call-overload]
class HlsActor:
    """Thin shell around `HlsSessions`: DB lookups in, session calls through."""

    def __init__(self, settings: Settings) -> None:
        self._engine = connect(settings.resolved_database_url)
        root = Layout(settings.root).hls()
        # A restarted actor starts empty: folders of the previous incarnation are stale.
        for folder in root.glob("*") if root.is_dir() else ():
            if folder.name.isdigit():
                remove_tree(folder)
        self._sessions = HlsSessions(
            root,
            policy=SourcePolicy.from_settings(settings),
            enabled=settings.hls_enabled,
            max_sessions=settings.hls_max_sessions,
            idle_seconds=settings.hls_idle_seconds,
        )
        self._sessions.start()

    def ensure(self, camera_id: int, wait_s: float = 0.0) -> EnsureResult:
        """Start (idempotently) the camera's session; its playlist once playable (≤ `wait_s`)."""
        with Session(self._engine) as session:
            camera = session.get(Camera, camera_id)
            if camera is None:
                return EnsureResult("not_found", "Camera not found.")
            if not camera.enabled:
                self._sessions.close(camera_id)
                return EnsureResult("camera_disabled", "Camera is disabled.")
            source, transport = camera.rtsp_url, camera.rtsp_transport
        try:
            self._sessions.ensure(camera_id, source, transport)
        except HlsDisabled as exc:
            return EnsureResult("disabled", str(exc))
        except HlsRefused as exc:  # a row from before the source policy: it cannot stream
            return EnsureResult("camera_disabled", str(exc))
        except HlsCapacity as exc:
            return EnsureResult("capacity", str(exc))
        playlist = self._sessions.playlist(camera_id, wait_s)
        if playlist is not None:
            return EnsureResult("ready", playlist=playlist)
        return EnsureResult("starting", self._sessions.last_error(camera_id))

    def touch(self, camera_id: int) -> bool:
        """Count a viewer request for the camera's session; False when none runs."""
        return self._sessions.touch(camera_id)

    def close(self, camera_id: int) -> bool:
        """Stop the camera's session and remove its folder; False when none ran."""
        return self._sessions.close(camera_id)

    def sessions(self) -> list[dict[str, Any]]:
        """Every running session (camera, pid, ready, idle time, restarts, last error)."""
        return self._sessions.sessions()

    def stop_all(self) -> list[int]:
        """Close every session (clean shutdown); returns their camera ids."""
        return self._sessions.close_all()
