"""Per-label object filters applied to detections before tracking (no Ray, no I/O)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from iris.types import Detections


@dataclass(frozen=True)
class ObjectFilter:
    """What a detection of one label must be to count.

    Attributes:
        min_score: lowest confidence (0–1).
        min_area: smallest box, as a fraction of the frame's area (0–1).
        max_area: largest box, as a fraction of the frame's area (0–1).
        min_ratio: narrowest box, width / height (> 0).
        max_ratio: widest box, width / height (> 0).
    """

    min_score: float | None = None
    min_area: float | None = None
    max_area: float | None = None
    min_ratio: float | None = None
    max_ratio: float | None = None

    def __post_init__(self) -> None:
        for low, high in (("min_area", "max_area"), ("min_ratio", "max_ratio")):
            lo, hi = getattr(self, low), getattr(self, high)
            if lo is not None and hi is not None and lo > hi:
                raise ValueError(f"{low} must not exceed {high} ({lo} > {hi})")

    @classmethod
    def from_dict(cls, values: Mapping[str, Any]) -> ObjectFilter:
        """From the camera row's JSON (unknown keys are an error)."""
        return cls(**{k: None if v is None else float(v) for k, v in values.items()})

    def keeps(self, score: np.ndarray, area: np.ndarray, ratio: np.ndarray) -> np.ndarray:
        """A boolean array: which of the detections (parallel arrays) pass."""
        ok = np.ones(score.shape, bool)
        for value, low, high in ((score, self.min_score, None),
                                 (area, self.min_area, self.max_area),
                                 (ratio, self.min_ratio, self.max_ratio)):
            if low is not None:
                ok &= value >= low
            if high is not None:
                ok &= value <= high
        return ok


def apply_filters(detections: Detections, labels: list[str],
                  filters: Mapping[str, ObjectFilter], width: int, height: int) -> Detections:
    """The detections that pass their label's filter (labels without one all pass).

    Args:
        detections: boxes in pixels of a width × height frame.
        labels: the label of each detection.
        filters: label → filter.
        width: frame width in pixels.
        height: frame height in pixels.
    """
    if not filters or len(detections) == 0 or width <= 0 or height <= 0:
        return detections
    xyxy = detections.xyxy
    w = np.clip(xyxy[:, 2] - xyxy[:, 0], 0, None)
    h = np.clip(xyxy[:, 3] - xyxy[:, 1], 0, None)
    area = w * h / float(width * height)
    ratio = np.where(h > 0, w / np.maximum(h, 1e-9), np.inf)
    keep = np.ones(len(detections), bool)
    for label, rule in filters.items():
        rows = np.asarray([lb == label for lb in labels], bool)
        if rows.any():
            keep[rows] = rule.keeps(detections.confidence[rows], area[rows], ratio[rows])
    return detections if keep.all() else detections[keep]
