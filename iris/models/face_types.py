"""Value types of the face pipeline: what the recogniser returns for one face."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

FACE_DIM = 512
"""Length of an ArcFace embedding."""


@dataclass(frozen=True, eq=False)
class FaceHit:
    """One detected and embedded face.

    Attributes:
        bbox: ``(x1, y1, x2, y2)`` in pixels of the image given to the recogniser.
        det_score: detector confidence in ``[0, 1]``.
        kps: ``(5, 2)`` float32 landmarks (eyes, nose, mouth corners) in the same pixels.
        embedding: ``(512,)`` float32 L2-normalised ArcFace vector.
    """

    bbox: tuple[float, float, float, float]
    det_score: float
    kps: np.ndarray
    embedding: np.ndarray

    def __post_init__(self) -> None:
        if self.embedding.ndim != 1 or self.embedding.dtype != np.float32:
            raise ValueError(
                f"FaceHit.embedding must be a 1-D float32 vector, got "
                f"{self.embedding.dtype} {self.embedding.shape}"
            )
        if self.kps.shape != (5, 2):
            raise ValueError(f"FaceHit.kps must have shape (5, 2), got {self.kps.shape}")

    @property
    def width(self) -> float:
        """Box width in pixels."""
        return max(0.0, self.bbox[2] - self.bbox[0])

    @property
    def height(self) -> float:
        """Box height in pixels."""
        return max(0.0, self.bbox[3] - self.bbox[1])

    @property
    def area(self) -> float:
        """Box area in square pixels."""
        return self.width * self.height

    @property
    def quality(self) -> float:
        """A ``[0, 1]`` score for picking exemplars: detector confidence times size.

        Faces whose short side reaches ArcFace's 112-pixel input count as full size; smaller
        ones are upsampled by the aligner and embed less reliably.
        """
        size = min(1.0, min(self.width, self.height) / 112.0)
        return float(np.clip(self.det_score, 0.0, 1.0) * size)

    def crop_box(self, margin: float = 0.2) -> tuple[int, int, int, int]:
        """Integer box grown by ``margin`` of its size on every side (clip it to the image)."""
        dx, dy = self.width * margin, self.height * margin
        x1, y1, x2, y2 = self.bbox
        return int(x1 - dx), int(y1 - dy), int(np.ceil(x2 + dx)), int(np.ceil(y2 + dy))
