"""CameraActor: the Ray shell around one camera's worker logic.

It only wires: the resolved `CameraConfig` in, heartbeats out to the WorkerManager, and method
calls from the ingress (live frames, manual recording) through to `CameraWorker`.
"""

from __future__ import annotations

import logging
import threading
from typing import Any

import ray

from iris.actors.config import CameraConfig
from iris.actors.worker import CameraWorker

log = logging.getLogger("iris.camera")


@ray.remote
class CameraActor:
    """One per enabled camera, named `camera-<id>`; restarted by Ray when it crashes."""

    def __init__(self, config: CameraConfig, manager: Any) -> None:
        self._config = config
        self._manager = manager
        self._worker = CameraWorker(config)
        self._stopping = threading.Event()
        self._worker.start()
        self._beat = threading.Thread(target=self._heartbeat_loop, name="heartbeat", daemon=True)
        self._beat.start()

    def _heartbeat_loop(self) -> None:
        while not self._stopping.wait(self._config.heartbeat_seconds):
            try:
                owned = ray.get(
                    self._manager.heartbeat.remote(self._config.camera_id, self._worker.state()),
                    timeout=10,
                )
            except Exception as exc:  # noqa: BLE001 - manager restarting: keep recording
                log.warning("camera %s: heartbeat failed: %s", self._config.camera_id, exc)
                continue
            if not owned:
                log.warning("camera %s: no longer owned by the manager; stopping",
                            self._config.camera_id)
                self.stop()

    def stop(self) -> bool:
        """Finalise the partial segment, close any open event, release the stream."""
        if not self._stopping.is_set():
            self._stopping.set()
            self._worker.stop()
        return True

    def state(self) -> dict[str, Any]:
        return self._worker.state()

    def ping(self) -> bool:
        return True

    # live / recording calls are added by the camera worker (see iris/actors/worker.py)
    def latest_jpeg(self, after_seq: int = -1, fps: float | None = None,
                    timeout: float = 2.0) -> tuple[int, bytes] | None:
        """The newest annotated JPEG with a sequence number newer than `after_seq`, or None."""
        return self._worker.latest_jpeg(after_seq, timeout=timeout)

    def record_start(self) -> float:
        return self._worker.record_start()

    def record_stop(self, started_at: float) -> dict[str, Any]:
        return self._worker.record_stop(started_at)
