"""Detector: the shared YOLO Serve deployment, batching frames across cameras.

Cameras send frames already letterboxed to their detector input size; requests are batched with
`@serve.batch`, grouped by (size, iou) inside a batch, and run on one backend per input size.
Each request's confidence is applied after the batched run, so cameras with different
thresholds still share a batch. Missing weights keep the replica up and say why (`info`).
"""

from __future__ import annotations

import asyncio
import logging
import socket
import threading
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any

import numpy as np
from ray import serve

from iris import names
from iris.detector_socket import DetectorSocketServer
from iris.models.detectors import DetectorBackend, DetectorUnavailable, load_backend
from iris.types import Detections

log = logging.getLogger("iris.detector")

DEFAULT_BATCH = 8
#: Batches one replica runs at a time, each on one thread (the backend's single intra-op
#: thread): two cores' worth of inference without paying for threads that split each frame.
CONCURRENT_BATCHES = 2


def snap_imgsz(imgsz: int) -> int:
    """The nearest multiple of 32 the detector accepts (128–1920 by the contract)."""
    return max(32, int(round(imgsz / 32)) * 32)


class DetectorCore:
    """Backends per input size and batched inference (no Serve; testable on its own)."""

    def __init__(self, kind: str, model_path: str) -> None:
        self.kind = kind
        self.model_path = Path(model_path)
        self._backends: dict[int, DetectorBackend] = {}
        self._lock = threading.Lock()
        self.batch_sizes: Counter[int] = Counter()
        self.reason: str | None = None
        try:
            self.backend(320)
        except DetectorUnavailable as exc:
            self.reason = exc.reason
            log.warning("detector unavailable: %s", exc.reason)

    @property
    def available(self) -> bool:
        return self.reason is None

    def backend(self, imgsz: int) -> DetectorBackend:
        with self._lock:
            if imgsz not in self._backends:
                self._backends[imgsz] = load_backend(self.kind, self.model_path, imgsz)
            return self._backends[imgsz]

    def info(self) -> dict[str, Any]:
        backend = next(iter(self._backends.values()), None)
        return {
            "available": self.available,
            "reason": self.reason,
            "backend": self.kind,
            "model": str(self.model_path),
            "names": list(backend.names) if backend else [],
            "device": backend.device if backend else "cpu",
            "providers": list(backend.providers) if backend else [],
            "batch_sizes": dict(self.batch_sizes),
        }

    def run(self, frames: list[np.ndarray], confs: list[float],
            ious: list[float]) -> list[Detections]:
        """One batched call: group by (input size, iou), run, then filter each by its conf."""
        with self._lock:  # two batches may run at once (`CONCURRENT_BATCHES`)
            self.batch_sizes[len(frames)] += 1
        if not self.available:
            return [Detections.empty() for _ in frames]
        groups: dict[tuple[int, float], list[int]] = defaultdict(list)
        for index, frame in enumerate(frames):
            groups[(frame.shape[0], ious[index])].append(index)
        results: list[Detections] = [Detections.empty()] * len(frames)
        for (imgsz, iou), members in groups.items():
            floor = min(confs[i] for i in members)
            outputs = self.backend(imgsz).detect([frames[i] for i in members], conf=floor, iou=iou)
            for i, dets in zip(members, outputs, strict=True):
                results[i] = dets[dets.confidence >= confs[i]]
        return results


@serve.deployment(name=names.DETECTOR, max_ongoing_requests=64)
class Detector:
    """Serve shell around `DetectorCore`; tunables arrive through `user_config`.

    With ``local_socket`` the replica also takes frames from cameras on its host over a UNIX
    socket (`iris.detector_socket`), started on the first `info()` and named in its answer.
    """

    def __init__(self, kind: str, model_path: str, local_socket: bool = True) -> None:
        self._core = DetectorCore(kind, model_path)
        self._socket = DetectorSocketServer(self.detect) if local_socket else None

    def __del__(self) -> None:  # Serve calls it when the replica stops
        server = getattr(self, "_socket", None)
        if server is not None:
            server.close()

    def reconfigure(self, config: dict[str, Any]) -> None:
        """user_config: max_batch_size, batch_wait_timeout_s."""
        self.detect_batch.set_max_batch_size(int(config.get("max_batch_size", DEFAULT_BATCH)))
        self.detect_batch.set_batch_wait_timeout_s(float(config.get("batch_wait_timeout_s", 0.01)))

    async def info(self) -> dict[str, Any]:
        info = self._core.info()
        if self._socket is not None and self._core.available:
            info["local_socket"] = {"path": await self._socket.start(),
                                    "host": socket.gethostname()}
            info["socket_requests"] = self._socket.requests
            info["socket_connections"] = self._socket.connections
        return info

    async def detect(self, frame: np.ndarray, conf: float, iou: float) -> Detections:
        """Detections for one letterboxed frame, in letterboxed pixels."""
        result: Detections = await self.detect_batch(frame, conf, iou)
        return result

    @serve.batch(max_batch_size=DEFAULT_BATCH, batch_wait_timeout_s=0.01,
                 max_concurrent_batches=CONCURRENT_BATCHES)
    async def detect_batch(self, frames: list[np.ndarray], confs: list[float],
                           ious: list[float]) -> list[Detections]:
        return await asyncio.to_thread(self._core.run, frames, confs, ious)
