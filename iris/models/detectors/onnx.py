"""Detector backend on onnxruntime: the fastest path on CPU, CUDA when the runtime has it.

Runs YOLO ONNX exports (ultralytics ``format=onnx``) and the test stand-ins, which share the
raw head format ``(B, 4 + nc, N)``; NMS-free exports ``(B, K, 6)`` are decoded too.
"""

from __future__ import annotations

import ast
import logging
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from iris.models.coco import COCO_NAMES
from iris.models.detectors.base import DetectorBackend, DetectorUnavailable
from iris.models.providers import GPU_PROVIDERS, choose_providers
from iris.models.yolo_decode import decode_end2end, decode_yolo
from iris.types import Detections

log = logging.getLogger(__name__)


def parse_names(raw: str | None, fallback: Sequence[str] = COCO_NAMES) -> list[str]:
    """Read class names from ONNX metadata (ultralytics writes ``"{0: 'person', ...}"``).

    Falls back to ``fallback`` (COCO) when the entry is absent or unreadable.
    """
    if not raw:
        return list(fallback)
    try:
        value: Any = ast.literal_eval(raw)
    except (ValueError, SyntaxError):
        log.warning("unreadable class names in model metadata; using COCO names")
        return list(fallback)
    if isinstance(value, dict):
        return [str(value[k]) for k in sorted(value, key=int)]
    if isinstance(value, list | tuple):
        return [str(v) for v in value]
    return list(fallback)


class OnnxDetector(DetectorBackend):
    """A YOLO detector on an onnxruntime session.

    Batches go through one ``session.run`` when the model's batch axis is dynamic, frame by
    frame otherwise. ``session.run`` is thread-safe, so one instance may serve several threads.

    Attributes:
        names: class names, from the model's metadata or COCO.
        device: ``"cuda:0"`` when a GPU provider is active, else ``"cpu"``.
        providers: the session's active execution providers.
        imgsz: input side; a model with a fixed input size overrides the requested one.
        dynamic_batch: whether one run takes a whole batch.
    """

    kind = "onnx"
    suffixes = (".onnx",)

    @classmethod
    def load(cls, path: Path, imgsz: int, providers: Sequence[str] | None) -> OnnxDetector:
        """See `DetectorBackend.load`."""
        return cls(path, imgsz=imgsz, providers=providers)

    @classmethod
    def wrong_file(cls, path: Path) -> str | None:
        """Anything but ``.onnx`` is refused, pointing at the backend that loads it."""
        if path.suffix.lower() == ".onnx":
            return None
        return (f"the onnx detector backend needs a .onnx file, got {path}; "
                "use backend `ultralytics` for .pt/.engine weights")

    def __init__(
        self,
        path: Path | str,
        imgsz: int = 640,
        providers: Sequence[str] | None = None,
        max_det: int = 300,
        intra_op_threads: int = 1,
    ) -> None:
        """Open the model and run one warm-up frame.

        Args:
            path: ``.onnx`` file.
            imgsz: requested square input size (used when the model's input is dynamic).
            providers: execution providers in order of preference (default CUDA, CPU).
            max_det: most boxes per frame.
            intra_op_threads: onnxruntime intra-op threads; 0 lets it pick (one per core).
                One by default: split over two threads, a 320 px yolo11n frame cost 1.3x the
                CPU for 10 % less latency (threads woken per operator); the Detector runs
                whole batches side by side instead (`iris.serve.detector`).

        Raises:
            DetectorUnavailable: onnxruntime is missing, or the file is not a runnable
                YOLO-style detector.
        """
        try:
            import onnxruntime as ort
        except ImportError as exc:
            raise DetectorUnavailable(
                "onnxruntime is not installed; `pip install onnxruntime`"
            ) from exc
        self.path = Path(path)
        self.max_det = max_det
        options = ort.SessionOptions()
        # Spinning threads burn the cores that decode and other cameras need between frames.
        options.add_session_config_entry("session.intra_op.allow_spinning", "0")
        options.intra_op_num_threads = intra_op_threads
        chosen = choose_providers(ort.get_available_providers(), providers)
        try:
            self._session = ort.InferenceSession(str(self.path), options, providers=chosen)
        except Exception as exc:  # onnxruntime raises several unrelated types for a bad file
            raise DetectorUnavailable(
                f"cannot load detector weights at {self.path}: {exc}"
            ) from exc
        self.providers: list[str] = list(self._session.get_providers())
        self.device = "cuda:0" if any(p in GPU_PROVIDERS for p in self.providers) else "cpu"
        model_input = self._session.get_inputs()[0]
        self._input_name = model_input.name
        self._fp16 = "float16" in model_input.type
        self.imgsz, self.dynamic_batch = self._input_geometry(model_input.shape, imgsz)
        meta = self._session.get_modelmeta().custom_metadata_map
        self.names = parse_names(meta.get("names"))
        self._end2end = meta.get("end2end", "False") == "True"
        self._warm_up()
        log.info(
            "onnx detector %s: imgsz %d, providers %s, dynamic batch %s",
            self.path.name,
            self.imgsz,
            self.providers,
            self.dynamic_batch,
        )

    def _input_geometry(self, shape: Sequence[Any], requested: int) -> tuple[int, bool]:
        if len(shape) != 4 or shape[1] not in (3, "3"):
            raise DetectorUnavailable(
                f"{self.path} is not an image detector: input shape {list(shape)}, "
                "expected (batch, 3, height, width)"
            )
        h, w = shape[2], shape[3]
        imgsz = requested
        if isinstance(h, int) and isinstance(w, int):
            if h != w:
                raise DetectorUnavailable(f"{self.path} has a non-square input {h}x{w}")
            if h != requested:
                log.warning(
                    "%s has a fixed input of %d px; using it instead of %d", self.path, h, requested
                )
            imgsz = h
        return imgsz, not isinstance(shape[0], int)

    def _warm_up(self) -> None:
        frame = np.full((self.imgsz, self.imgsz, 3), 114, np.uint8)
        try:
            raw = self._run(self._preprocess([frame]))
        except Exception as exc:
            raise DetectorUnavailable(f"detector weights at {self.path} do not run: {exc}") from exc
        # NMS-free exports emit (B, K, 6) rows; raw heads emit (B, 4 + nc, anchors).
        if raw.ndim == 3 and raw.shape[2] == 6 and raw.shape[1] != 4 + len(self.names):
            self._end2end = True
        if raw.ndim != 3 or raw.shape[0] != 1 or (not self._end2end and raw.shape[1] < 5):
            raise DetectorUnavailable(
                f"{self.path} is not a YOLO detector: output shape {raw.shape}, "
                "expected (batch, 4 + classes, anchors)"
            )
        if self._end2end and raw.shape[2] != 6:
            raise DetectorUnavailable(
                f"{self.path} says it is NMS-free but outputs {raw.shape}, expected (batch, K, 6)"
            )

    def _preprocess(self, batch: Sequence[np.ndarray]) -> np.ndarray:
        x = np.stack(batch)[..., ::-1].transpose(0, 3, 1, 2)  # BGR HWC -> RGB CHW
        x = np.ascontiguousarray(x, dtype=np.float32)
        np.multiply(x, np.float32(1.0 / 255.0), out=x)
        return x.astype(np.float16) if self._fp16 else x

    def _run(self, x: np.ndarray) -> np.ndarray:
        if self.dynamic_batch or x.shape[0] == 1:
            return np.asarray(self._session.run(None, {self._input_name: x})[0])
        parts = [
            self._session.run(None, {self._input_name: x[i : i + 1]})[0] for i in range(len(x))
        ]
        return np.concatenate(parts)

    def _detect(self, batch: Sequence[np.ndarray], conf: float, iou: float) -> list[Detections]:
        raw = self._run(self._preprocess(batch))
        if self._end2end:
            return decode_end2end(raw, conf=conf, max_det=self.max_det)
        return decode_yolo(raw, conf=conf, iou=iou, max_det=self.max_det)
