"""Detector backend on ultralytics ``YOLO()``: loads .pt, .onnx and TensorRT .engine files.

Importing ultralytics needs the environment set first (offline, no auto-install, a writable
config dir) and, beside this machine's torch, the torchvision shim; `prepare_ultralytics` does
both and must run before anything else imports ultralytics.
"""

from __future__ import annotations

import logging
import os
import tempfile
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from iris.models.detectors.base import DetectorBackend, DetectorUnavailable
from iris.types import Detections

log = logging.getLogger(__name__)


def prepare_ultralytics(config_dir: Path | None = None) -> None:
    """Set ultralytics' environment (unless already set) and install the torchvision shim.

    Args:
        config_dir: where ultralytics may write its settings; defaults to a per-user temp dir.
    """
    import sys

    if "ultralytics" in sys.modules:
        log.debug("ultralytics already imported; its environment is whatever it found then")
    default_dir = config_dir or Path(tempfile.gettempdir()) / f"iris-ultralytics-{os.getuid()}"
    os.environ.setdefault("YOLO_OFFLINE", "1")  # no hub checks, no font downloads
    os.environ.setdefault("YOLO_AUTOINSTALL", "0")  # never pip-install from inside a replica
    if "YOLO_CONFIG_DIR" not in os.environ:
        default_dir.mkdir(parents=True, exist_ok=True)
        os.environ["YOLO_CONFIG_DIR"] = str(default_dir)
    from iris.models.torchvision_shim import install_torchvision_nms

    install_torchvision_nms()


class UltralyticsDetector(DetectorBackend):
    """A detector on ``ultralytics.YOLO``.

    Frames arrive letterboxed to ``imgsz``; ultralytics' own letterbox is then a no-op, so its
    boxes come back in the same letterboxed coordinates. Its predictor keeps state, so calls
    are serialised with a lock.

    Attributes:
        names: class names from the weights.
        device: ``"cuda:0"`` when torch sees a GPU, else ``"cpu"``.
        providers: ``[device]`` (ultralytics picks onnxruntime providers itself).
        imgsz: input side; exports with a fixed size override the requested one.
    """

    kind = "ultralytics"
    suffixes = (".pt", ".onnx", ".engine")

    @classmethod
    def load(cls, path: Path, imgsz: int, providers: Sequence[str] | None
             ) -> UltralyticsDetector:
        """See `DetectorBackend.load`; ultralytics picks onnxruntime providers itself."""
        return cls(path, imgsz=imgsz)

    def __init__(
        self,
        path: Path | str,
        imgsz: int = 640,
        device: str | None = None,
        max_det: int = 300,
    ) -> None:
        """Load the weights and run one warm-up frame.

        Args:
            path: ``.pt``, ``.onnx`` or ``.engine`` file.
            imgsz: requested square input size.
            device: torch device; defaults to ``cuda:0`` if available, else ``cpu``.
            max_det: most boxes per frame.

        Raises:
            DetectorUnavailable: ultralytics is missing, or the weights do not load as a
                detection model.
        """
        self.path = Path(path)
        self.max_det = max_det
        self._lock = threading.Lock()
        try:
            prepare_ultralytics()
            import torch
            from ultralytics import YOLO
        except ImportError as exc:
            raise DetectorUnavailable(f"ultralytics is not importable: {exc}") from exc
        self.device = device or ("cuda:0" if torch.cuda.is_available() else "cpu")
        self.providers = [self.device]
        try:
            self._model: Any = YOLO(str(self.path), task="detect")
        except Exception as exc:  # ultralytics raises many types for bad files
            raise DetectorUnavailable(
                f"cannot load detector weights at {self.path}: {exc}"
            ) from exc
        if self._model.task != "detect":
            raise DetectorUnavailable(
                f"{self.path} is a {self._model.task} model, not a detection model"
            )
        self.imgsz = imgsz
        try:
            self._predict([np.full((imgsz, imgsz, 3), 114, np.uint8)], 0.25, 0.45)
        except Exception as exc:
            raise DetectorUnavailable(f"detector weights at {self.path} do not run: {exc}") from exc
        predictor: Any = self._model.predictor
        actual = predictor.imgsz
        if actual[0] != actual[1]:
            raise DetectorUnavailable(f"{self.path} has a non-square input {actual}")
        if actual[0] != imgsz:
            log.warning("%s runs at %d px; using it instead of %d", self.path, actual[0], imgsz)
            self.imgsz = int(actual[0])
        names = self._model.names
        self.names = [str(names[k]) for k in sorted(names)]
        log.info("ultralytics detector %s: imgsz %d on %s", self.path.name, self.imgsz, self.device)

    def _predict(self, frames: list[np.ndarray], conf: float, iou: float) -> list[Any]:
        with self._lock:
            return self._model.predict(
                frames,
                imgsz=self.imgsz,
                conf=conf,
                iou=iou,
                max_det=self.max_det,
                device=self.device,
                verbose=False,
            )

    def _detect(self, batch: Sequence[np.ndarray], conf: float, iou: float) -> list[Detections]:
        out = []
        for result in self._predict(list(batch), conf, iou):
            boxes = result.boxes
            out.append(
                Detections(
                    xyxy=boxes.xyxy.cpu().numpy(),
                    confidence=boxes.conf.cpu().numpy(),
                    class_id=boxes.cls.cpu().numpy().astype(np.int32),
                )
            )
        return out
