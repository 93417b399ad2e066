"""Motion regions: where in the frame the detector looks (no Ray, no I/O).

As Frigate does, a camera does not send the whole frame to the detector when only part of it
moves: the union of the moving regions (and of the boxes of objects being tracked, so a person
who stops walking stays in view) is padded, made square-ish, grown to at least the detector's
input size where the frame allows, and clamped to the frame. Letterboxing that crop instead of
the frame costs less to resize and, more importantly, keeps a small distant mover at (near)
full resolution: a 1280x720 frame squeezed into 320 px loses three pixels in four.

When the padded region covers most of the frame anyway, or there is nothing to go on (motion
held after it stopped, no track), the whole frame is used: cropping it would save nothing and
could cut off what the tracker still follows.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from iris.types import Detections

#: Each side of the moving region grows by this share of the region's larger side.
PAD_SHARE = 0.25
#: ... and by at least this many source pixels (a mover's next step stays inside).
PAD_MIN_PX = 32
#: A crop covering this share of the frame or more is replaced by the whole frame.
FULL_FRAME_SHARE = 0.6


@dataclass(frozen=True)
class Crop:
    """A rectangle of the source frame, ``[x1, x2) x [y1, y2)`` in whole pixels."""

    x1: int
    y1: int
    x2: int
    y2: int

    def __post_init__(self) -> None:
        if not (0 <= self.x1 < self.x2 and 0 <= self.y1 < self.y2):
            raise ValueError(f"empty or negative crop {self}")

    @property
    def width(self) -> int:
        return self.x2 - self.x1

    @property
    def height(self) -> int:
        return self.y2 - self.y1

    def of(self, frame: np.ndarray) -> np.ndarray:
        """The crop of ``frame`` (a view: nothing is copied)."""
        return frame[self.y1 : self.y2, self.x1 : self.x2]

    def to_frame(self, detections: Detections) -> Detections:
        """Detections found in the crop, with their boxes in frame pixels."""
        if not len(detections):
            return detections
        offset = np.array([self.x1, self.y1, self.x1, self.y1], np.float32)
        return Detections(xyxy=detections.xyxy + offset, confidence=detections.confidence,
                          class_id=detections.class_id, tracker_id=detections.tracker_id)


def choose_crop(boxes: npt.ArrayLike, frame_w: int, frame_h: int, min_side: int,
                full_share: float = FULL_FRAME_SHARE) -> Crop | None:
    """The region of a ``frame_w x frame_h`` frame to detect in, or None for the whole frame.

    Args:
        boxes: ``(N, 4)`` xyxy boxes in frame pixels: the motion regions of this frame and the
            last boxes of live tracks.
        frame_w: frame width in pixels.
        frame_h: frame height in pixels.
        min_side: the detector's input side: a smaller crop would be upscaled for nothing, so
            the crop grows to it where the frame allows.
        full_share: a crop covering this share of the frame area or more becomes the frame.

    Returns:
        A square-ish `Crop` inside the frame around the union of ``boxes``; None when there
        are no boxes or the crop would cover most of the frame.

    Raises:
        ValueError: non-positive frame size or input side.
    """
    if frame_w <= 0 or frame_h <= 0 or min_side <= 0:
        raise ValueError(f"need a positive frame and input size, got {frame_w}x{frame_h}, "
                         f"{min_side}")
    xyxy = np.asarray(boxes, np.float64).reshape(-1, 4)
    if not len(xyxy):
        return None
    x1, y1 = max(0.0, float(xyxy[:, 0].min())), max(0.0, float(xyxy[:, 1].min()))
    x2 = min(float(frame_w), float(xyxy[:, 2].max()))
    y2 = min(float(frame_h), float(xyxy[:, 3].max()))
    if x2 <= x1 or y2 <= y1:
        return None
    pad = max(PAD_SHARE * max(x2 - x1, y2 - y1), PAD_MIN_PX)
    # Square around the centre of the union, unless the frame is narrower (then the crop
    # spans the frame that way); the union lies in the frame, so it always fits.
    side = max(max(x2 - x1, y2 - y1) + 2 * pad, float(min_side))
    width, height = min(side, frame_w), min(side, frame_h)
    left = _place((x1 + x2) / 2 - width / 2, width, frame_w)
    top = _place((y1 + y2) / 2 - height / 2, height, frame_h)
    crop = Crop(int(left), int(top), min(frame_w, int(np.ceil(left + width))),
                min(frame_h, int(np.ceil(top + height))))
    if crop.width * crop.height >= full_share * frame_w * frame_h:
        return None
    return crop


def _place(start: float, length: float, limit: int) -> float:
    """Shift a span of `length` starting at `start` so it lies inside ``[0, limit]``."""
    return min(max(0.0, start), max(0.0, limit - length))
