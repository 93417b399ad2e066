"""Motion masks rasterise to the gate's grid: zero under the polygon, one elsewhere."""

from __future__ import annotations

from iris.zones.masks import keep_mask


def test_no_polygons_is_no_mask() -> None:
    assert keep_mask([], 160, 90) is None


def test_left_half_masked() -> None:
    keep = keep_mask([((0.0, 0.0), (0.5, 0.0), (0.5, 1.0), (0.0, 1.0))], 160, 90)
    assert keep is not None and keep.shape == (90, 160)
    assert keep[:, :75].max() == 0  # masked
    assert keep[:, 85:].min() == 1  # analysed
    assert 0.45 < 1 - keep.mean() < 0.55


def test_two_polygons_both_mask() -> None:
    a = ((0.0, 0.0), (0.2, 0.0), (0.2, 0.2), (0.0, 0.2))
    b = ((0.8, 0.8), (1.0, 0.8), (1.0, 1.0), (0.8, 1.0))
    keep = keep_mask([a, b], 100, 100)
    assert keep is not None
    assert keep[5, 5] == 0 and keep[95, 95] == 0 and keep[50, 50] == 1
