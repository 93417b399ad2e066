"""Polygons: what validation refuses and says, and which points lie inside."""

from __future__ import annotations

import pytest

from iris.zones.polygons import area, bottom_centre, check_polygon, contains

SQUARE = ((0.2, 0.2), (0.6, 0.2), (0.6, 0.6), (0.2, 0.6))
L_SHAPE = ((0.0, 0.0), (0.5, 0.0), (0.5, 0.5), (1.0, 0.5), (1.0, 1.0), (0.0, 1.0))


def test_a_valid_polygon_comes_back_as_tuples() -> None:
    assert check_polygon([[0.2, 0.2], [0.6, 0.2], [0.6, 0.6], [0.2, 0.6]]) == SQUARE
    assert area(SQUARE) == pytest.approx(0.16)


@pytest.mark.parametrize(("points", "message"), [
    ([[0.1, 0.1], [0.2, 0.2]], "3-64 points, got 2"),
    ([[i / 100, (i % 2) / 2] for i in range(65)], "3-64 points, got 65"),
    ([[0.1, 0.1], [1.2, 0.1], [0.5, 0.5]], "point 1 must lie in 0-1"),
    ([[0.1, 0.1], [0.2, -0.1], [0.5, 0.5]], "point 1 must lie in 0-1"),
    ([[0.1, 0.1, 0.3], [0.2, 0.1], [0.5, 0.5]], "point 0 must be [x, y]"),
    ([[0.1, 0.1], [0.2, 0.2], [0.3, 0.3]], "enclose no area"),
])
def test_bad_polygons_say_what_is_wrong(points: list[list[float]], message: str) -> None:
    with pytest.raises(ValueError, match=message.replace("[", r"\[").replace("]", r"\]")):
        check_polygon(points)


@pytest.mark.parametrize(("x", "y", "inside"), [
    (0.4, 0.4, True), (0.1, 0.4, False), (0.7, 0.4, False), (0.4, 0.1, False),
    (0.4, 0.7, False), (0.59, 0.59, True),
])
def test_points_in_a_square(x: float, y: float, inside: bool) -> None:
    assert contains(SQUARE, x, y) is inside


@pytest.mark.parametrize(("x", "y", "inside"), [
    (0.25, 0.25, True), (0.75, 0.25, False), (0.75, 0.75, True), (0.25, 0.75, True),
])
def test_points_in_a_concave_polygon(x: float, y: float, inside: bool) -> None:
    assert contains(L_SHAPE, x, y) is inside


def test_an_object_stands_at_its_box_bottom_centre() -> None:
    assert bottom_centre((100, 50, 300, 400), 1000, 500) == (0.2, 0.8)
