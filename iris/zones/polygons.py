"""Normalised polygons: validation, and whether a point lies inside (no Ray, no I/O)."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

Point = tuple[float, float]
Polygon = tuple[Point, ...]
"""A closed polygon of 3–64 points ``(x, y)`` in 0–1 of the frame; the last joins the first."""

MIN_POINTS, MAX_POINTS = 3, 64
MIN_AREA = 1e-6
"""Smallest polygon area (fraction of the frame): below it the points lie on a line."""


def area(polygon: Sequence[Sequence[float]]) -> float:
    """The polygon's area (shoelace formula), as a fraction of the frame."""
    total = 0.0
    for i, (x1, y1) in enumerate(polygon):
        x2, y2 = polygon[(i + 1) % len(polygon)]
        total += x1 * y2 - x2 * y1
    return abs(total) / 2


def check_polygon(points: Sequence[Sequence[float]]) -> Polygon:
    """The points as a `Polygon`, or ValueError saying what is wrong with them.

    Raises:
        ValueError: fewer than 3 or more than 64 points, a point that is not two numbers in
            0–1, or points that enclose no area (all on one line).
    """
    if not MIN_POINTS <= len(points) <= MAX_POINTS:
        raise ValueError(f"a polygon needs {MIN_POINTS}-{MAX_POINTS} points, got {len(points)}")
    polygon: list[Point] = []
    for index, point in enumerate(points):
        if len(point) != 2:
            raise ValueError(f"point {index} must be [x, y], got {len(point)} numbers")
        x, y = float(point[0]), float(point[1])
        if not (0.0 <= x <= 1.0 and 0.0 <= y <= 1.0):
            raise ValueError(f"point {index} must lie in 0-1 of the frame, got [{x}, {y}]")
        polygon.append((x, y))
    if area(polygon) < MIN_AREA:
        raise ValueError("the points enclose no area (they lie on one line)")
    return tuple(polygon)


def contains(polygon: Polygon, x: float, y: float) -> bool:
    """Whether ``(x, y)`` lies inside the polygon (even-odd rule; edges count as inside
    only where the crossing test puts them, which is fine for boxes that move)."""
    inside = False
    n = len(polygon)
    for i in range(n):
        x1, y1 = polygon[i]
        x2, y2 = polygon[(i + 1) % n]
        if (y1 > y) != (y2 > y):
            cross = x1 + (y - y1) * (x2 - x1) / (y2 - y1)
            if x < cross:
                inside = not inside
    return inside


def bottom_centre(box: Sequence[float] | np.ndarray, width: int, height: int) -> Point:
    """Where an object stands: its box's bottom centre, normalised to a width × height frame."""
    x1, _, x2, y2 = (float(v) for v in box[:4])
    return (x1 + x2) / 2 / width, y2 / height
