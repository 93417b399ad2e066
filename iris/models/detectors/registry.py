"""Detector backends by name, and the loader the Detector deployment and benchmarks use.

How to add a detector backend (say ``openvino``):

1. Write ``iris/models/detectors/openvino.py`` with a subclass of
   `iris.models.detectors.base.DetectorBackend`: set ``kind = "openvino"`` and the weight
   ``suffixes`` it loads, implement ``load`` (open the weights, warm up, raise
   `DetectorUnavailable` with a reason an operator can act on) and ``_detect`` (letterboxed
   frames in, one `Detections` per frame out, boxes in letterboxed pixels). Import heavy
   libraries inside ``load``/``__init__`` so the API starts without them. Import only the base.
2. Add the class to `BACKENDS` below, and its ``kind`` to the ``detector_backend`` field of
   `iris.settings.Settings` (the choices an operator may configure).
3. Run the shared backend tests (``tests/unit/test_detector_backends.py``) against it.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from iris.models.detectors.base import DetectorBackend, DetectorUnavailable
from iris.models.detectors.onnx import OnnxDetector
from iris.models.detectors.ultralytics import UltralyticsDetector
from iris.models.errors import missing_weights_reason

BACKENDS: dict[str, type[DetectorBackend]] = {
    backend.kind: backend for backend in (OnnxDetector, UltralyticsDetector)
}
BACKEND_KINDS = tuple(BACKENDS)


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
    backend = BACKENDS.get(kind)
    if backend is None:
        raise ValueError(f"unknown detector backend {kind!r}; expected one of {BACKEND_KINDS}")
    if imgsz <= 0 or imgsz % 32:
        raise ValueError(f"detector imgsz must be a positive multiple of 32, got {imgsz}")
    path = Path(path)
    if not path.is_file():
        raise DetectorUnavailable(missing_weights_reason(path))
    refused = backend.wrong_file(path)
    if refused is not None:
        raise DetectorUnavailable(refused)
    return backend.load(path, imgsz, providers)
