"""Motion masks rasterised once at the motion gate's size (no Ray, no I/O)."""

from __future__ import annotations

from collections.abc import Sequence

import cv2
import numpy as np
import numpy.typing as npt

from iris.zones.polygons import Polygon


def keep_mask(polygons: Sequence[Polygon], width: int, height: int) -> npt.NDArray[np.uint8] | None:
    """A ``(height, width)`` uint8 image: 1 where motion counts, 0 under a mask polygon.

    None when there are no polygons (nothing to mask: the caller skips the multiply).
    """
    if not polygons:
        return None
    keep = np.ones((height, width), np.uint8)
    # Pixel centres: a point at x = 1.0 is the right edge of the last column.
    scale = np.array([width, height], np.float32)
    shapes = [np.round(np.asarray(p, np.float32) * scale - 0.5).astype(np.int32)
              for p in polygons]
    cv2.fillPoly(keep, shapes, 0)
    return keep
