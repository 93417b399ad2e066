"""CameraActor: the Ray shell around one camera's `CameraWorker`.

It only wires: the resolved `CameraConfig` in, typed heartbeats (`CameraState`) out to the
WorkerManager, the handles of the shared Detector and Embedder deployments and of the
IdentityManager in (from the manager), and calls from the ingress (live frames, manual
recording) through.
"""

from __future__ import annotations

import contextlib
import logging
import socket
import threading
import time
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

import numpy as np
import ray

from iris.actors.config import CameraConfig
from iris.actors.notifier import find_notifier
from iris.actors.worker import CameraWorker
from iris.detector_socket import DetectorSocketClient, LocalCallFailed
from iris.live.overlay import Overlay
from iris.live.push import FragmentPush
from iris.live.types import Fragment, LiveInit, LiveUnavailable
from iris.messages import CameraState, RecordResult
from iris.types import Detections

if TYPE_CHECKING:
    from ray.serve.handle import DeploymentHandle

log = logging.getLogger("iris.camera")

DETECT_TIMEOUT_S = 30.0
#: After the Detector's local socket failed, frames take the Serve handle this long.
SOCKET_RETRY_S = 10.0
#: Default bound of one camera's stop (a restart or disable; shutdowns pass their share).
STOP_TIMEOUT_S = 8.0


class ServeDetector:
    """`DetectorClient` over the Detector deployment (blocking calls, worker threads).

    Frames go to the replica's local socket when `info()` named one on this host
    (`iris.detector_socket`), else, and whenever the socket fails, through the handle;
    after a failure the socket is looked up again once `SOCKET_RETRY_S` have passed.
    """

    def __init__(self, handle: DeploymentHandle) -> None:
        self._handle = handle
        self._local: DetectorSocketClient | None = None
        self._retry_at: float | None = None

    def info(self) -> dict[str, Any]:
        info: dict[str, Any] = self._handle.info.remote().result(timeout_s=10)
        self._use_socket(info.get("local_socket"))
        return info

    def detect(self, frame: np.ndarray, conf: float, iou: float) -> Detections:
        if self._local is None and self._retry_at is not None and time.monotonic() > self._retry_at:
            self._retry_at = None
            with contextlib.suppress(Exception):  # the handle's answer below says what is wrong
                self.info()
        if self._local is not None:
            try:
                dets = self._local.detect(frame, conf, iou)
            except LocalCallFailed as exc:
                log.warning("detector socket %s failed (%s); using the Serve handle",
                            self._local.path, exc)
                self._local.close()
                self._local, self._retry_at = None, time.monotonic() + SOCKET_RETRY_S
            else:
                return dets
        remote: Detections = self._handle.detect.remote(frame, conf, iou).result(
            timeout_s=DETECT_TIMEOUT_S)
        return remote

    def _use_socket(self, where: dict[str, str] | None) -> None:
        path = where.get("path") if where and where.get("host") == socket.gethostname() else None
        if self._local is not None and self._local.path != path:
            self._local.close()
            self._local = None
        if path and self._local is None:
            self._local = DetectorSocketClient(path, timeout_s=DETECT_TIMEOUT_S)


class ServeEmbedder:
    """`EmbedderClient` over the Embedder deployment's handle."""

    def __init__(self, handle: DeploymentHandle) -> None:
        self._handle = handle

    def embed(self, crop: np.ndarray, want_face: bool) -> Any:
        return self._handle.embed.remote(crop, want_face).result(timeout_s=DETECT_TIMEOUT_S)


class ActorIdentity:
    """`IdentityClient` over the IdentityManager actor's handle."""

    def __init__(self, handle: Any) -> None:
        self._handle = handle

    def assign(self, sighting: Any) -> Any:
        return ray.get(self._handle.assign.remote(sighting), timeout=DETECT_TIMEOUT_S)


class CameraMetrics:
    """The camera's series in Ray's metrics (Prometheus via each node's metrics agent)."""

    COUNTERS = ("frames_decoded", "frames_dropped", "detections", "events")

    def __init__(self, camera_id: int) -> None:
        from ray.util import metrics

        self._tags = {"camera": str(camera_id)}
        self._fps = metrics.Gauge("iris_camera_decode_fps", "Decoded frames per second",
                                  tag_keys=("camera",))
        self._latency = metrics.Gauge("iris_camera_detect_latency_ms", "Detector round trip",
                                      tag_keys=("camera",))
        self._counters = {name: metrics.Counter(f"iris_camera_{name}_total", name,
                                                tag_keys=("camera",)) for name in self.COUNTERS}
        self._last: dict[str, float] = {}

    def update(self, state: dict[str, Any]) -> None:
        self._fps.set(float(state.get("fps", 0.0)), tags=self._tags)
        self._latency.set(float(state.get("detect_latency_ms", 0.0)), tags=self._tags)
        for name, counter in self._counters.items():
            value = float(state.get(name, 0))
            delta = value - self._last.get(name, 0.0)
            if delta > 0:
                counter.inc(delta, tags=self._tags)
            self._last[name] = value


@ray.remote
class CameraActor:
    """One per enabled camera, named `camera-<id>`; restarted by Ray when it crashes."""

    def __init__(self, config: CameraConfig, manager: Any, detector: DeploymentHandle,
                 embedder: DeploymentHandle, identity: Any) -> None:
        import cv2

        from iris.logs import configure

        configure(camera_id=config.camera_id, camera=config.name)
        # One camera per process and a few small images per second: OpenCV's thread pool
        # only added a worker spinning in sched_yield after every resize (0.004 cores each).
        cv2.setNumThreads(1)
        self._config = config
        self._manager = manager
        self._worker = CameraWorker(config, ServeDetector(detector), ServeEmbedder(embedder),
                                    ActorIdentity(identity), find_notifier(config.ray_namespace))
        self._stopping = threading.Event()
        self._stopper: threading.Thread | None = None
        self._worker.start()
        self._beat = threading.Thread(target=self._heartbeat_loop, name="heartbeat", daemon=True)
        self._beat.start()

    def _heartbeat_loop(self) -> None:
        import os

        placement = {"pid": os.getpid(), "node": ray.get_runtime_context().get_node_id()}
        metrics = CameraMetrics(self._config.camera_id)
        while not self._stopping.wait(self._config.heartbeat_seconds):
            try:
                report = self._worker.state()
                metrics.update(report)
                state = CameraState.from_report(report, **placement)
                owned = ray.get(
                    self._manager.heartbeat.remote(self._config.camera_id, state), timeout=10)
            except Exception as exc:  # noqa: BLE001 - manager restarting: keep recording
                log.warning("camera %s: heartbeat failed: %s", self._config.camera_id, exc)
                continue
            if not owned:
                log.warning("camera %s: no longer owned by the manager; stopping",
                            self._config.camera_id)
                self.stop()

    def stop(self, timeout_s: float = STOP_TIMEOUT_S) -> bool:
        """Finish the open event, finalise the partial segment, release the stream.

        Waits at most `timeout_s`: True when the worker stopped in time, False when it is
        still busy (a source stuck in FFmpeg, a clip being cut); the manager then kills this
        actor. Repeated calls wait for the same stop.
        """
        if not self._stopping.is_set():
            self._stopping.set()
            self._stopper = threading.Thread(target=self._worker.stop, name="stop", daemon=True)
            self._stopper.start()
        stopper = self._stopper
        if stopper is None or stopper is threading.current_thread():
            return True
        stopper.join(max(0.0, timeout_s))
        if stopper.is_alive():
            log.warning("camera %s: still stopping after %.1f s", self._config.camera_id,
                        timeout_s)
            return False
        return True

    def state(self) -> CameraState:
        """The worker's state now (what the next heartbeat carries, without placement)."""
        return CameraState.from_report(self._worker.state())

    def ping(self) -> bool:
        return True

    def where(self) -> dict[str, Any]:
        """The process and node this camera runs on (operations, tests)."""
        import os

        return {"pid": os.getpid(), "node_id": ray.get_runtime_context().get_node_id()}

    def latest_jpeg(self, after_seq: int = -1, timeout: float = 2.0) -> tuple[int, bytes] | None:
        """The newest annotated JPEG newer than `after_seq` (long-polls up to `timeout`)."""
        return self._worker.latest_jpeg(after_seq, timeout)

    def live_init(self, wait_s: float) -> LiveInit | LiveUnavailable:
        """The live MP4 stream's init segment and codecs (starts muxing: `LiveMp4.init`)."""
        return self._worker.live.init(wait_s)

    def live_push(self, epoch: int, after_seq: int, host: str, port: int, token: bytes) -> bool:
        """Write `epoch`'s fragments after `after_seq` to the reader at host:port as they are
        cut (`iris.live.push`); False when that epoch is over.

        Raises:
            OSError: the reader cannot be reached from here (it falls back to `live_stream`).
        """
        push = FragmentPush.connect(host, port, token, epoch)
        return self._worker.live.push(push, after_seq)

    def live_stream(self, epoch: int, after_seq: int, wait_s: float,
                    span_s: float) -> Iterator[list[Fragment] | None]:
        """Live MP4 fragments of `epoch` after `after_seq` as they come (`LiveMp4.follow`).

        A streaming generator: one call for `span_s` of fragments, each batch reported as it
        is cut, which costs this process about half of a call per fragment. It ends early once
        the reader cancels it (`ray.cancel`).
        """
        context = ray.get_runtime_context()
        yield from self._worker.live.follow(epoch, after_seq, wait_s, span_s,
                                            stop=context.is_canceled)

    def live_overlay(self, after_seq: int, wait_s: float) -> Overlay | None:
        """The tracked boxes unless `after_seq` is theirs (long-polls up to `wait_s`)."""
        return self._worker.frames.overlays.wait(after_seq, wait_s)

    def record_stop(self, started_at: float) -> RecordResult:
        """Persist a manual event spanning [started_at, now] from the recording store."""
        return RecordResult.from_report(self._worker.record_stop(started_at))
