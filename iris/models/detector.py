"""Object detector interface: one Protocol, two backends, one loader.

Backends take frames that the camera has already letterboxed (`iris.models.letterbox`) to the
backend's square input size and return boxes in those letterboxed pixel coordinates; the camera
maps them back with the `Letterbox` it kept. Missing or broken weights raise
`DetectorUnavailable` with a reason an operator can act on, so the system can report the
detector as unavailable and fall back to motion triggering.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Protocol, runtime_checkable

import numpy as np

from iris.types import Detections

BACKEND_KINDS = ("onnx", "ultralytics")
ULTRALYTICS_SUFFIXES = (".pt", ".onnx", ".engine")


class DetectorUnavailable(RuntimeError):
    """The detector cannot run: weights are missing, unloadable or need a missing library.

    Attributes:
        reason: one human sentence saying what is wrong and how to fix it.
    """

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@runtime_checkable
class DetectorBackend(Protocol):
    """A loaded object detector.

    Attributes:
        names: class names, indexed by `Detections.class_id`.
        device: where inference runs, ``"cpu"`` or ``"cuda:<n>"``.
        providers: the runtime's execution providers in use (onnxruntime), or ``[device]``.
        imgsz: side of the square input the frames must be letterboxed to.
    """

    names: list[str]
    device: str
    providers: list[str]
    imgsz: int

    def detect(
        self, batch: Sequence[np.ndarray], conf: float = 0.25, iou: float = 0.45
    ) -> list[Detections]:
        """Detect objects in letterboxed ``imgsz x imgsz x 3`` BGR uint8 frames.

        Returns:
            One `Detections` per frame, in the same order, boxes in letterboxed pixels.
        """
        ...


def check_batch(batch: Sequence[np.ndarray], imgsz: int) -> None:
    """Reject frames that are not ``imgsz x imgsz x 3`` uint8, naming the offending one.

    Raises:
        ValueError: on the first frame of the wrong shape or dtype.
    """
    for i, frame in enumerate(batch):
        if frame.dtype != np.uint8 or frame.shape != (imgsz, imgsz, 3):
            raise ValueError(
                f"frame {i} is {frame.dtype} {frame.shape}; the detector takes letterboxed "
                f"uint8 frames of shape ({imgsz}, {imgsz}, 3)"
            )


def check_thresholds(conf: float, iou: float) -> None:
    """Raise ``ValueError`` unless both thresholds lie in ``[0, 1]``."""
    if not (0.0 <= conf <= 1.0 and 0.0 <= iou <= 1.0):
        raise ValueError(f"conf and iou must lie in [0, 1], got conf={conf}, iou={iou}")


def missing_weights_reason(path: Path) -> str:
    """The message for absent weights, pointing at the command that fetches them."""
    return f"no detector weights at {path}; run `iris models pull`"


def _load_onnx(path: Path, imgsz: int, providers: Sequence[str] | None) -> DetectorBackend:
    from iris.models.detector_onnx import OnnxDetector

    return OnnxDetector(path, imgsz=imgsz, providers=providers)


def _load_ultralytics(path: Path, imgsz: int, providers: Sequence[str] | None) -> DetectorBackend:
    from iris.models.detector_ultralytics import UltralyticsDetector

    return UltralyticsDetector(path, imgsz=imgsz)


_LOADERS: dict[str, Callable[[Path, int, Sequence[str] | None], DetectorBackend]] = {
    "onnx": _load_onnx,
    "ultralytics": _load_ultralytics,
}


def load_backend(
    kind: str,
    path: Path | str,
    imgsz: int = 640,
    providers: Sequence[str] | None = None,
) -> DetectorBackend:
    """Load a detector backend.

    Args:
        kind: ``"onnx"`` (onnxruntime on a ``.onnx`` file) or ``"ultralytics"`` (anything
            ``YOLO()`` loads: ``.pt``, ``.onnx``, ``.engine``).
        path: weights file.
        imgsz: requested input size; a model with a fixed input size overrides it (read the
            backend's ``imgsz`` to letterbox frames).
        providers: onnxruntime execution providers in order of preference (``onnx`` only;
            default CUDA then CPU, TensorRT only when named here).

    Raises:
        ValueError: an unknown ``kind`` or a non-positive ``imgsz`` (configuration errors).
        DetectorUnavailable: weights missing, of the wrong type, or not loadable.
    """
    if kind not in _LOADERS:
        raise ValueError(f"unknown detector backend {kind!r}; expected one of {BACKEND_KINDS}")
    if imgsz <= 0 or imgsz % 32:
        raise ValueError(f"detector imgsz must be a positive multiple of 32, got {imgsz}")
    path = Path(path)
    if not path.is_file():
        raise DetectorUnavailable(missing_weights_reason(path))
    suffix = path.suffix.lower()
    if kind == "onnx" and suffix != ".onnx":
        raise DetectorUnavailable(
            f"the onnx detector backend needs a .onnx file, got {path}; "
            "use backend `ultralytics` for .pt/.engine weights"
        )
    if kind == "ultralytics" and suffix not in ULTRALYTICS_SUFFIXES:
        raise DetectorUnavailable(
            f"the ultralytics detector backend loads {', '.join(ULTRALYTICS_SUFFIXES)} files, "
            f"got {path}"
        )
    return _LOADERS[kind](path, imgsz, providers)
