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


def test_the_motion_gate_ignores_what_moves_under_a_mask() -> None:
    import numpy as np

    from iris.actors.motion import MotionGate

    left_half = ((0.0, 0.0), (0.5, 0.0), (0.5, 1.0), (0.0, 1.0))
    plain, masked = MotionGate(), MotionGate(masks=(left_half,))
    background = np.full((360, 640, 3), 120, np.uint8)

    def frame(x: int) -> np.ndarray:
        image = background.copy()
        image[100:300, x:x + 60] = 20  # a dark person-sized block
        return image

    for gate in (plain, masked):
        gate.update(background, 0.0)
    # Moving in the left half: motion for the plain gate, none for the masked one.
    assert plain.update(frame(100), 1.0) and len(plain.detections()) == 1
    assert not masked.update(frame(100), 1.0) and len(masked.detections()) == 0
    # The same block in the right half is motion for both.
    fresh = MotionGate(masks=(left_half,))
    fresh.update(background, 0.0)
    assert fresh.update(frame(450), 1.0) and len(fresh.detections()) == 1
