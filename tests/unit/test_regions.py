"""Motion regions: the crop the detector sees, and detections mapped back to the frame."""

from __future__ import annotations

import numpy as np
import pytest

from iris.actors.regions import FULL_FRAME_SHARE, Crop, choose_crop
from iris.models.letterbox import letterbox
from iris.models.standins import draw_marker
from iris.types import Detections

W, H, SIDE = 1280, 720, 320


def test_no_boxes_means_the_whole_frame() -> None:
    assert choose_crop(np.empty((0, 4)), W, H, SIDE) is None


def test_a_small_mover_gets_a_square_crop_of_the_input_size_around_it() -> None:
    crop = choose_crop([[600, 300, 640, 380]], W, H, SIDE)
    assert crop is not None
    assert (crop.width, crop.height) == (SIDE, SIDE)
    assert crop.x1 <= 600 and crop.x2 >= 640 and crop.y1 <= 300 and crop.y2 >= 380
    # Centred on the mover.
    assert abs((crop.x1 + crop.x2) / 2 - 620) <= 1 and abs((crop.y1 + crop.y2) / 2 - 340) <= 1


@pytest.mark.parametrize("box", [
    [0, 0, 30, 30],  # top-left corner
    [1250, 690, 1280, 720],  # bottom-right corner
    [1260, 10, 1300, 60],  # reaching past the right edge
])
def test_a_crop_near_an_edge_is_shifted_inside_the_frame_and_keeps_its_size(box) -> None:
    crop = choose_crop([box], W, H, SIDE)
    assert crop is not None
    assert 0 <= crop.x1 < crop.x2 <= W and 0 <= crop.y1 < crop.y2 <= H
    assert (crop.width, crop.height) == (SIDE, SIDE)
    assert crop.x1 <= min(box[0], W - 1) and crop.x2 >= min(box[2], W)


def test_several_movers_are_covered_by_one_padded_union() -> None:
    boxes = [[100, 100, 160, 200], [300, 150, 340, 260]]
    crop = choose_crop(boxes, W, H, SIDE)
    assert crop is not None
    assert crop.x1 <= 100 - 32 and crop.x2 >= 340 + 32
    assert crop.y1 <= 100 - 32 and crop.y2 >= 260 + 32
    assert crop.width == crop.height  # square while the frame allows


def test_a_tall_region_spans_the_frame_height_and_keeps_its_padded_width() -> None:
    crop = choose_crop([[600, 110, 640, 610]], W, H, SIDE)
    assert crop is not None
    assert (crop.y1, crop.y2) == (0, H)  # the padded square is taller than the frame
    assert crop.width == 750  # 500 px high + 2 x 25 % padding


def test_motion_over_most_of_the_frame_falls_back_to_the_whole_frame() -> None:
    assert choose_crop([[100, 50, 1100, 650]], W, H, SIDE) is None
    small = choose_crop([[0, 0, 100, 100]], 400, 300, SIDE)  # frame barely above the input
    assert small is None  # a 320 crop of a 400x300 frame is most of it


def test_full_share_is_the_threshold() -> None:
    box = [[400, 200, 600, 400]]
    crop = choose_crop(box, W, H, SIDE)
    assert crop is not None
    area = crop.width * crop.height / (W * H)
    assert area < FULL_FRAME_SHARE
    assert choose_crop(box, W, H, SIDE, full_share=area) is None


def test_bad_sizes_are_refused() -> None:
    with pytest.raises(ValueError, match="positive"):
        choose_crop([[0, 0, 1, 1]], 0, H, SIDE)
    with pytest.raises(ValueError, match="crop"):
        Crop(10, 10, 10, 20)


def test_detections_map_from_the_crop_back_to_the_frame() -> None:
    crop = Crop(900, 300, 1220, 620)
    found = Detections(xyxy=[[10, 20, 50, 120]], confidence=[0.9], class_id=[0])
    mapped = crop.to_frame(found)
    np.testing.assert_allclose(mapped.xyxy, [[910, 320, 950, 420]])
    assert mapped.confidence.tolist() == pytest.approx([0.9])
    assert crop.to_frame(Detections.empty()).xyxy.shape == (0, 4)


def test_crop_letterbox_and_back_finds_a_distant_marker_where_it_is() -> None:
    """The whole path of `_detect`: crop a view, letterbox it, map a box found in the input."""
    frame = np.zeros((H, W, 3), np.uint8)
    marker = (1150, 560, 1180, 620)
    draw_marker(frame, marker)
    crop = choose_crop([marker], W, H, SIDE)
    assert crop is not None
    view = crop.of(frame)
    assert view.base is frame or view.base is frame.base  # a view, not a copy
    image, box = letterbox(view, SIDE)
    ys, xs = np.nonzero((image == (255, 0, 255)).all(axis=2))
    found = Detections(xyxy=[[xs.min(), ys.min(), xs.max() + 1, ys.max() + 1]],
                       confidence=[0.9], class_id=[0])
    mapped = crop.to_frame(found.from_letterbox(box))
    np.testing.assert_allclose(mapped.xyxy[0], marker, atol=1.0)
    # At full resolution the marker keeps all its pixels; the whole frame letterboxed to the
    # same input would keep one in 16.
    assert len(xs) >= 0.9 * 30 * 60
    whole, _ = letterbox(frame, SIDE)
    assert (whole == (255, 0, 255)).all(axis=2).sum() < 0.1 * 30 * 60
