"""Letterbox resize: fit a frame into a square model input without distorting it.

Cameras letterbox on their side before sending frames to the detector, so every batch is a
stack of same-shape arrays; the `Letterbox` that comes back with the image maps the detector's
boxes back onto the camera frame.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np
import numpy.typing as npt

PAD_VALUE = 114
"""Grey used by YOLO training for the padding bands."""


@dataclass(frozen=True)
class Letterbox:
    """How a source frame was placed into a square model input.

    Attributes:
        size: side of the square input in pixels.
        src_w: source frame width in pixels.
        src_h: source frame height in pixels.
        new_w: width of the resized frame inside the input.
        new_h: height of the resized frame inside the input.
        pad_x: pixels of padding on the left.
        pad_y: pixels of padding on the top.
    """

    size: int
    src_w: int
    src_h: int
    new_w: int
    new_h: int
    pad_x: int
    pad_y: int

    @property
    def scale_x(self) -> float:
        """Effective horizontal resize factor (input px per source px)."""
        return self.new_w / self.src_w

    @property
    def scale_y(self) -> float:
        """Effective vertical resize factor (input px per source px)."""
        return self.new_h / self.src_h

    @property
    def scale(self) -> float:
        """The nominal, aspect-preserving resize factor."""
        return min(self.size / self.src_w, self.size / self.src_h)

    def to_source(self, xyxy: npt.ArrayLike) -> npt.NDArray[np.float32]:
        """Map ``(N, 4)`` boxes from input pixels to source-frame pixels, clipped to the frame."""
        boxes = np.asarray(xyxy, np.float64).reshape(-1, 4)
        pad = np.array([self.pad_x, self.pad_y, self.pad_x, self.pad_y], np.float64)
        div = np.array([self.scale_x, self.scale_y, self.scale_x, self.scale_y], np.float64)
        out = (boxes - pad) / div
        lim = np.array([self.src_w, self.src_h, self.src_w, self.src_h], np.float64)
        return np.clip(out, 0, lim).astype(np.float32)

    def to_input(self, xyxy: npt.ArrayLike) -> npt.NDArray[np.float32]:
        """Map ``(N, 4)`` boxes from source-frame pixels to input pixels (inverse of above)."""
        boxes = np.asarray(xyxy, np.float64).reshape(-1, 4)
        pad = np.array([self.pad_x, self.pad_y, self.pad_x, self.pad_y], np.float64)
        mul = np.array([self.scale_x, self.scale_y, self.scale_x, self.scale_y], np.float64)
        return (boxes * mul + pad).astype(np.float32)


def plan_letterbox(src_w: int, src_h: int, size: int) -> Letterbox:
    """Compute the placement of a ``src_w x src_h`` frame into a ``size`` square.

    Matches ultralytics' ``LetterBox(auto=False, center=True)`` rounding, so frames prepared here
    and frames prepared by ultralytics give the same model input.

    Raises:
        ValueError: a non-positive dimension.
    """
    if src_w <= 0 or src_h <= 0 or size <= 0:
        raise ValueError(f"letterbox needs positive sizes, got {src_w}x{src_h} -> {size}")
    r = min(size / src_w, size / src_h)
    new_w, new_h = round(src_w * r), round(src_h * r)
    dw, dh = (size - new_w) / 2, (size - new_h) / 2
    return Letterbox(
        size=size,
        src_w=src_w,
        src_h=src_h,
        new_w=new_w,
        new_h=new_h,
        pad_x=round(dw - 0.1),
        pad_y=round(dh - 0.1),
    )


def letterbox(
    image: np.ndarray, size: int = 640, pad_value: int = PAD_VALUE
) -> tuple[np.ndarray, Letterbox]:
    """Resize ``image`` (H x W x C) to fit a ``size`` square, padding the rest.

    Args:
        image: source frame, typically BGR uint8.
        size: side of the square model input.
        pad_value: grey level of the padding.

    Returns:
        The ``size x size x C`` input image and the `Letterbox` that undoes the placement.

    Raises:
        ValueError: an image that is not ``H x W`` or ``H x W x C``.
    """
    if image.ndim not in (2, 3) or image.shape[0] == 0 or image.shape[1] == 0:
        raise ValueError(f"letterbox needs an HxW or HxWxC image, got shape {image.shape}")
    h, w = image.shape[:2]
    lb = plan_letterbox(w, h, size)
    resized: np.ndarray
    if (lb.new_w, lb.new_h) == (w, h):
        resized = image
    else:
        # INTER_LINEAR like ultralytics' predictor, so both paths feed the model the same pixels.
        resized = cv2.resize(image, (lb.new_w, lb.new_h), interpolation=cv2.INTER_LINEAR)
    out_shape = (size, size) + image.shape[2:]
    out = np.full(out_shape, pad_value, dtype=image.dtype)
    out[lb.pad_y : lb.pad_y + lb.new_h, lb.pad_x : lb.pad_x + lb.new_w] = resized
    return out, lb
