"""Appearance vectors tell clothing apart across cameras; vehicle colours get plain names."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest

from iris.models.appearance import (
    APPEARANCE_DIM,
    VEHICLE_COLOURS,
    AppearanceModel,
    AppearanceUnavailable,
    HistogramAppearance,
    OnnxReid,
    appearance_vector,
    load_appearance,
    vehicle_color,
)

RED, BLUE, GREEN, GREY, BLACK = (30, 30, 200), (200, 60, 30), (40, 160, 40), (128, 128, 128), (
    25, 25, 25)


def person(top: tuple[int, int, int], bottom: tuple[int, int, int], h: int = 240,
           seed: int = 0, jpeg: int | None = None) -> np.ndarray:
    """A person-shaped crop: skin head, shirt, trousers, on a noisy grey background."""
    rng = np.random.default_rng(seed)
    w = h // 2
    img = rng.integers(90, 140, (h, w, 3), dtype=np.uint8)
    cv2.circle(img, (w // 2, h // 10), h // 12, (140, 170, 220), -1)
    cv2.rectangle(img, (w // 6, h * 2 // 10), (w * 5 // 6, h // 2), top, -1)
    cv2.rectangle(img, (w // 5, h // 2), (w * 4 // 5, h * 19 // 20), bottom, -1)
    noisy = np.clip(img.astype(np.int16) + rng.integers(-12, 12, img.shape), 0, 255)
    img = noisy.astype(np.uint8)
    if jpeg is not None:
        img = cv2.imdecode(cv2.imencode(".jpg", img, [cv2.IMWRITE_JPEG_QUALITY, jpeg])[1], 1)
    return img


def test_same_clothes_across_cameras_match_and_different_do_not() -> None:
    a = appearance_vector(person(RED, BLUE, 240, seed=1))
    b = appearance_vector(person(RED, BLUE, 130, seed=2, jpeg=50))  # other camera: smaller, JPEG
    swapped = appearance_vector(person(BLUE, RED, 240, seed=3))
    other = appearance_vector(person(GREEN, BLACK, 240, seed=4))
    assert a.shape == (APPEARANCE_DIM,) and a.dtype == np.float32
    assert np.linalg.norm(a) == pytest.approx(1.0, abs=1e-5)
    assert float(a @ b) > 0.85
    assert float(a @ swapped) < 0.5, "upper and lower body are described separately"
    assert float(a @ other) < 0.3


def test_model_protocol_batches() -> None:
    model = load_appearance(None)
    assert isinstance(model, AppearanceModel) and isinstance(model, HistogramAppearance)
    out = model.embed([person(RED, BLUE), person(GREY, GREY)])
    assert out.shape == (2, model.dim) and model.embed([]).shape == (0, model.dim)


@pytest.mark.parametrize(
    ("crop", "message"),
    [
        (np.zeros((10, 10), np.uint8), "H x W x 3"),
        (np.zeros((10, 10, 3), np.float32), "H x W x 3"),
        (np.zeros((1, 5, 3), np.uint8), "too small"),
    ],
)
def test_bad_crops_are_refused(crop: np.ndarray, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        appearance_vector(crop)


@pytest.mark.parametrize(
    ("bgr", "name"),
    [
        ((30, 30, 200), "red"),
        ((200, 80, 20), "blue"),
        ((240, 240, 240), "white"),
        ((20, 20, 20), "black"),
        ((40, 160, 40), "green"),
        ((30, 210, 230), "yellow"),
        ((120, 120, 120), "gray"),
    ],
)
def test_vehicle_color_names_the_body_colour(bgr: tuple[int, int, int], name: str) -> None:
    crop = np.full((120, 200, 3), (90, 90, 90), np.uint8)  # road around the car
    cv2.rectangle(crop, (20, 20), (180, 100), bgr, -1)
    got, hexcode = vehicle_color(crop)
    assert got == name and got in VEHICLE_COLOURS
    r, g, b = (int(hexcode[i : i + 2], 16) for i in (1, 3, 5))
    assert abs(r - bgr[2]) < 20 and abs(g - bgr[1]) < 20 and abs(b - bgr[0]) < 20


def test_onnx_reid_loads_a_model_and_normalises(tmp_path: Path) -> None:
    import torch

    class TinyReid(torch.nn.Module):
        def forward(self, x: torch.Tensor) -> torch.Tensor:
            return torch.nn.functional.adaptive_avg_pool2d(x, (4, 2)).flatten(1) * 7.0

    path = tmp_path / "reid.onnx"
    torch.onnx.export(TinyReid(), (torch.zeros(1, 3, 256, 128),), str(path),
                      input_names=["images"], output_names=["feat"],
                      dynamic_axes={"images": {0: "b"}, "feat": {0: "b"}},
                      opset_version=13, dynamo=False)
    model = load_appearance(path)
    assert isinstance(model, OnnxReid) and model.dim == 24 and model.input_size == (128, 256)
    out = model.embed([person(RED, BLUE), person(GREEN, BLACK, 100)])
    assert out.shape == (2, 24)
    assert np.linalg.norm(out, axis=1) == pytest.approx([1.0, 1.0], abs=1e-5)
    assert float(out[0] @ out[1]) < 0.99


def test_missing_reid_model_is_an_error_not_a_silent_fallback(tmp_path: Path) -> None:
    with pytest.raises(AppearanceUnavailable, match="no re-ID model"):
        load_appearance(tmp_path / "absent.onnx")
