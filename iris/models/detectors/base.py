"""What every object detector backend is: the interface, its shared checks, its error.

Backends take frames that the camera has already letterboxed (`iris.models.letterbox`) to the
backend's square input size and return boxes in those letterboxed pixel coordinates; the camera
maps them back with the `Letterbox` it kept. Missing or broken weights raise
`DetectorUnavailable` with a reason an operator can act on, so the system can report the
detector as unavailable and fall back to motion triggering.

Backends import this module only; `iris.models.detectors.registry` names and loads them.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence
from pathlib import Path
from typing import ClassVar, Self

import numpy as np

from iris.models.errors import ModelUnavailable
from iris.types import Detections


class DetectorUnavailable(ModelUnavailable):
    """The detector cannot run: weights are missing, unloadable or need a missing library."""


class DetectorBackend(ABC):
    """A loaded object detector.

    Subclasses name their `kind` and `suffixes`, open their weights in `load` (raising
    `DetectorUnavailable`) and implement `_detect`; `detect` checks the arguments first.

    Attributes:
        kind: the name settings use for the backend (``detector_backend``).
        suffixes: weight files the backend loads.
        names: class names, indexed by `Detections.class_id`.
        device: where inference runs, ``"cpu"`` or ``"cuda:<n>"``.
        providers: the runtime's execution providers in use (onnxruntime), or ``[device]``.
        imgsz: side of the square input the frames must be letterboxed to.
    """

    kind: ClassVar[str]
    suffixes: ClassVar[tuple[str, ...]]
    names: list[str]
    device: str
    providers: list[str]
    imgsz: int

    @classmethod
    @abstractmethod
    def load(cls, path: Path, imgsz: int, providers: Sequence[str] | None) -> Self:
        """Open the weights at ``path`` for ``imgsz`` inputs and run one warm-up frame.

        Args:
            path: an existing file whose suffix the backend accepts.
            imgsz: requested input side; a model with a fixed input size overrides it.
            providers: onnxruntime execution providers in order of preference (backends that
                do not run onnxruntime themselves ignore them).

        Raises:
            DetectorUnavailable: the weights do not load or do not run as a detector.
        """

    @classmethod
    def wrong_file(cls, path: Path) -> str | None:
        """Why this backend cannot load ``path`` by its kind of file, or ``None`` if it may."""
        if path.suffix.lower() in cls.suffixes:
            return None
        return (f"the {cls.kind} detector backend loads {', '.join(cls.suffixes)} files, "
                f"got {path}")

    def detect(
        self, batch: Sequence[np.ndarray], conf: float = 0.25, iou: float = 0.45
    ) -> list[Detections]:
        """Detect objects in letterboxed ``imgsz x imgsz x 3`` BGR uint8 frames.

        Returns:
            One `Detections` per frame, in the same order, boxes in letterboxed pixels.

        Raises:
            ValueError: thresholds outside ``[0, 1]`` or a frame of the wrong shape.
        """
        check_thresholds(conf, iou)
        if not batch:
            return []
        check_batch(batch, self.imgsz)
        return self._detect(batch, conf, iou)

    @abstractmethod
    def _detect(self, batch: Sequence[np.ndarray], conf: float, iou: float) -> list[Detections]:
        """`detect` on arguments already checked: a non-empty batch of the right frames."""


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
