"""Letterboxing frames into the square detector input, and undoing it."""

from __future__ import annotations

import numpy as np
import pytest

from iris.models.letterbox import PAD_VALUE, letterbox, plan_letterbox


@pytest.mark.parametrize(
    ("w", "h", "size", "new", "pad"),
    [
        (1280, 720, 640, (640, 360), (0, 140)),
        (720, 1280, 320, (180, 320), (70, 0)),
        (640, 640, 640, (640, 640), (0, 0)),
        (1920, 1080, 320, (320, 180), (0, 70)),
        (100, 50, 320, (320, 160), (0, 80)),
        (333, 333, 320, (320, 320), (0, 0)),
        (1001, 333, 320, (320, 106), (0, 107)),
    ],
)
def test_placement(w: int, h: int, size: int, new: tuple[int, int], pad: tuple[int, int]) -> None:
    lb = plan_letterbox(w, h, size)
    assert (lb.new_w, lb.new_h) == new
    assert (lb.pad_x, lb.pad_y) == pad


@pytest.mark.parametrize("shape", [(720, 1280, 3), (1080, 1920, 3), (480, 360, 3), (300, 300)])
@pytest.mark.parametrize("size", [320, 640])
def test_image_is_square_padded_grey_and_content_in_place(
    shape: tuple[int, ...], size: int
) -> None:
    frame = np.full(shape, 7, np.uint8)
    out, lb = letterbox(frame, size)
    assert out.shape == (size, size) + shape[2:]
    assert out.dtype == np.uint8
    inside = out[lb.pad_y : lb.pad_y + lb.new_h, lb.pad_x : lb.pad_x + lb.new_w]
    assert (inside == 7).all()
    assert (out == PAD_VALUE).sum() == out.size - inside.size


@pytest.mark.parametrize("shape", [(720, 1280), (1080, 1920), (480, 360), (1001, 333)])
@pytest.mark.parametrize("size", [320, 640])
def test_box_mapping_is_an_exact_inverse(shape: tuple[int, int], size: int) -> None:
    h, w = shape
    lb = plan_letterbox(w, h, size)
    rng = np.random.default_rng(0)
    xy1 = rng.uniform(0, [w / 2, h / 2], (50, 2))
    boxes = np.concatenate([xy1, xy1 + rng.uniform(1, [w / 2, h / 2], (50, 2))], 1)
    np.testing.assert_allclose(lb.to_source(lb.to_input(boxes)), boxes, atol=1e-3)


def test_a_drawn_block_maps_back_onto_itself() -> None:
    frame = np.zeros((720, 1280, 3), np.uint8)
    frame[200:600, 100:300] = 255
    out, lb = letterbox(frame, 320)
    ys, xs = np.nonzero(out[..., 0] > 127)
    found = lb.to_source([[xs.min(), ys.min(), xs.max() + 1, ys.max() + 1]])[0]
    np.testing.assert_allclose(found, [100, 200, 300, 600], atol=4)


def test_boxes_outside_the_image_are_clipped_to_the_source_frame() -> None:
    lb = plan_letterbox(1280, 720, 640)
    np.testing.assert_allclose(lb.to_source([[0, 0, 640, 640]]), [[0, 0, 1280, 720]])


@pytest.mark.parametrize(
    "image", [np.zeros((0, 10, 3), np.uint8), np.zeros((4,), np.uint8), np.zeros((2, 2, 2, 2))]
)
def test_non_images_are_rejected(image: np.ndarray) -> None:
    with pytest.raises(ValueError, match="letterbox needs"):
        letterbox(image, 320)


def test_non_positive_sizes_are_rejected() -> None:
    with pytest.raises(ValueError, match="positive"):
        plan_letterbox(0, 10, 320)
