"""Presence folding: sightings on one camera close in time are one stay; a camera change or a
gap longer than the limit starts another."""

from __future__ import annotations

import pytest

from iris.identity.presence import Span, fold

GAP = 30.0


@pytest.mark.parametrize(
    ("sightings", "stays"),
    [
        ([], []),
        ([(1, 0.0, 10.0)], [Span(1, 0.0, 10.0)]),
        ([(1, 0.0, 10.0), (1, 40.0, 50.0)], [Span(1, 0.0, 50.0)]),  # 30 s apart: one stay
        ([(1, 0.0, 10.0), (1, 41.0, 50.0)], [Span(1, 0.0, 10.0), Span(1, 41.0, 50.0)]),
        ([(1, 0.0, 100.0), (1, 20.0, 30.0)], [Span(1, 0.0, 100.0)]),  # inside: no shrink
        ([(1, 0.0, 10.0), (2, 5.0, 20.0)], [Span(1, 0.0, 10.0), Span(2, 5.0, 20.0)]),
        ([(1, 5.0, 2.0)], [Span(1, 5.0, 5.0)]),  # an end before the start counts as the start
    ],
)
def test_fold(sightings: list[tuple[int, float, float]], stays: list[Span]) -> None:
    assert fold(sightings, GAP) == stays
