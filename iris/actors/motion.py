"""Motion gate: cheap frame differencing that decides whether the detector needs to run.

Frames shrink to a small image (160 px wide by default), are blurred to swallow encoder
noise and compared with a running-average background, colour by colour: a pixel changed when
any of its channels moved more than the threshold. Brightness alone would miss a mover as bright
as what it passes (a magenta coat on a grey wall differs by 7 grey levels of 255, and by 145
in blue). The fraction of changed pixels is the motion score; motion "holds" for a short time
after the last change so a person pausing mid-walk keeps the detector running. The changed
regions double as ``motion`` boxes for cameras that trigger on motion alone (no detector
weights). Motion masks (polygons of the frame, e.g. trees in wind) are rasterised once at the
small size and their pixels never count as changed: they neither wake the detector nor make
motion boxes. No Ray, no I/O.
"""

from __future__ import annotations

import time

import av
import cv2
import numpy as np
import numpy.typing as npt
from av.video.reformatter import VideoReformatter

from iris.types import Detections
from iris.zones import Polygon, keep_mask

MOTION_LABEL = "motion"
MOTION_NAMES = [MOTION_LABEL]
"""Class names for `MotionGate.detections` (class id 0 is ``motion``)."""


def source_shape(frame: np.ndarray | av.VideoFrame) -> tuple[int, int]:
    """(height, width) of a frame, array or decoded."""
    if isinstance(frame, av.VideoFrame):
        return frame.height, frame.width
    return int(frame.shape[0]), int(frame.shape[1])


class MotionGate:
    """Running-average background subtraction on a downscaled frame, per colour channel.

    Attributes:
        score: fraction of the (small) frame that changed in the last update, ``0..1``.
        moving: whether the last update saw motion now (without the hold).
    """

    def __init__(
        self,
        width: int = 160,
        blur: int = 5,
        pixel_threshold: int = 25,
        area_threshold: float = 0.002,
        learning_rate: float = 0.05,
        hold_seconds: float = 2.0,
        min_box_fraction: float = 0.0005,
        lighting_threshold: float = 0.8,
        masks: tuple[Polygon, ...] = (),
    ) -> None:
        """Configure the gate.

        Args:
            width: width of the analysed frame; height keeps the aspect ratio.
            blur: odd Gaussian kernel size; smooths compression noise before differencing.
            pixel_threshold: difference (0-255) in any colour channel (grey frames: in grey)
                for a pixel to count as changed.
            area_threshold: changed fraction of the frame that counts as motion. The default
                (0.2 %) is a distant person; encoder noise stays far below it.
            learning_rate: how fast the background absorbs change (0-1, per update).
            hold_seconds: report motion for this long after the last motion.
            min_box_fraction: smallest motion box, as a fraction of the frame, to report.
            lighting_threshold: a change over this fraction of the frame is a lighting change
                (day/night switch, exposure jump, headlights): the background is replaced and
                no motion is reported for it. Measured over the unmasked part of the frame.
            masks: polygons (normalised to the frame) where motion is ignored.

        Raises:
            ValueError: out-of-range settings.
        """
        if width < 16:
            raise ValueError(f"motion width must be at least 16 px, got {width}")
        if blur < 1 or blur % 2 == 0:
            raise ValueError(f"motion blur must be a positive odd kernel size, got {blur}")
        if not 0.0 < learning_rate <= 1.0:
            raise ValueError(f"motion learning_rate must lie in (0, 1], got {learning_rate}")
        if not 0.0 < area_threshold < 1.0:
            raise ValueError(f"motion area_threshold must lie in (0, 1), got {area_threshold}")
        if not 0 < pixel_threshold < 256:
            raise ValueError(f"motion pixel_threshold must lie in 1..255, got {pixel_threshold}")
        if not area_threshold < lighting_threshold <= 1.0:
            raise ValueError(
                f"motion lighting_threshold must lie in (area_threshold, 1], got "
                f"{lighting_threshold}"
            )
        if hold_seconds < 0:
            raise ValueError(f"motion hold_seconds must not be negative, got {hold_seconds}")
        self.width = width
        self.blur = blur
        self.pixel_threshold = pixel_threshold
        self.area_threshold = area_threshold
        self.learning_rate = learning_rate
        self.hold_seconds = hold_seconds
        self.min_box_fraction = min_box_fraction
        self.lighting_threshold = lighting_threshold
        self.masks = masks
        self._keep: npt.NDArray[np.uint8] | None = None  # 1 where motion counts, at small size
        self._keep_fraction = 1.0
        self.score = 0.0
        self.moving = False
        self._background: npt.NDArray[np.float32] | None = None
        self._mask: npt.NDArray[np.uint8] | None = None
        self._source_shape: tuple[int, int] = (0, 0)
        self._last_motion: float | None = None
        self._scaler = VideoReformatter()

    def reset(self) -> None:
        """Forget the background (e.g. after a reconnect or a resolution change)."""
        self._background = None
        self._mask = None
        self._last_motion = None
        self.score = 0.0
        self.moving = False

    def _prepare(self, frame: np.ndarray | av.VideoFrame) -> npt.NDArray[np.float32]:
        h, w = source_shape(frame)
        small_h = max(1, round(h * self.width / w))
        small: np.ndarray
        if isinstance(frame, av.VideoFrame):
            # Straight from the decoded picture to the small size: converting the whole frame
            # to BGR first cost more than the rest of the gate, on every frame it looked at.
            # The gate's own scaler: a frame's is the live view's, in another thread.
            small = self._scaler.reformat(frame, width=self.width, height=small_h,
                                          format="bgr24", interpolation="FAST_BILINEAR"
                                          ).to_ndarray()
        else:
            # Bilinear is ~50x cheaper than INTER_AREA at 1080p; the blur below averages.
            small = cv2.resize(frame, (self.width, small_h), interpolation=cv2.INTER_LINEAR)
        return cv2.GaussianBlur(small, (self.blur, self.blur), 0).astype(np.float32)

    def update(self, frame: np.ndarray | av.VideoFrame, now: float | None = None) -> bool:
        """Feed one frame; return True if there is motion now or within the hold time.

        Args:
            frame: the camera frame, any size: BGR or grey uint8, or a decoded PyAV frame
                (scaled down without converting the whole of it).
            now: timestamp in seconds; defaults to `time.monotonic`.

        Raises:
            ValueError: an empty or non-image array.
        """
        if isinstance(frame, np.ndarray) and (
                frame.ndim not in (2, 3) or frame.shape[0] == 0 or frame.shape[1] == 0):
            raise ValueError(f"motion gate needs an image, got shape {frame.shape}")
        now = time.monotonic() if now is None else now
        small = self._prepare(frame)
        shape = source_shape(frame)
        if self._background is None or shape != self._source_shape \
                or small.shape != self._background.shape:
            self.reset()
            self._background = small
            self._source_shape = shape
            self._keep = keep_mask(self.masks, small.shape[1], small.shape[0])
            self._keep_fraction = 1.0 if self._keep is None else float(self._keep.mean())
            return False
        diff = cv2.absdiff(small, self._background)
        if diff.ndim == 3:  # the largest channel's change (cv2: numpy's max(axis=2) is 20x slower)
            diff = cv2.reduce(diff.reshape(-1, diff.shape[2]), 1, cv2.REDUCE_MAX).reshape(
                diff.shape[:2])
        mask = (diff > self.pixel_threshold).astype(np.uint8)
        if self._keep is not None:
            np.bitwise_and(mask, self._keep, out=mask)
        # The score stays a share of the whole frame (area_threshold means the same masked or
        # not); a lighting change is judged on the part that is analysed.
        self.score = float(mask.mean())
        if self.score >= self.lighting_threshold * self._keep_fraction:
            self._background = small
            self._mask = None
            self.moving = False
            return self._held(now)
        self.moving = self.score >= self.area_threshold
        self._mask = mask
        cv2.accumulateWeighted(small, self._background, self.learning_rate)
        if self.moving:
            self._last_motion = now
        return self.moving or self._held(now)

    def _held(self, now: float) -> bool:
        return self._last_motion is not None and now - self._last_motion <= self.hold_seconds

    def boxes(self) -> npt.NDArray[np.float32]:
        """Boxes ``(N, 4)`` around the changed regions of the last update, in source pixels."""
        if self._mask is None or not self.moving:
            return np.empty((0, 4), np.float32)
        # Dilation merges the fragments of one moving body into one region.
        merged = cv2.dilate(self._mask, np.ones((3, 3), np.uint8), iterations=2)
        contours, _ = cv2.findContours(merged, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
        small_h, small_w = merged.shape
        min_area = self.min_box_fraction * small_h * small_w
        fx = self._source_shape[1] / small_w
        fy = self._source_shape[0] / small_h
        out = []
        for contour in contours:
            x, y, w, h = cv2.boundingRect(contour)
            if w * h >= min_area:
                out.append([x * fx, y * fy, (x + w) * fx, (y + h) * fy])
        if not out:
            return np.empty((0, 4), np.float32)
        return np.asarray(out, np.float32)

    def detections(self) -> Detections:
        """The motion boxes of the last update as `Detections` of class ``motion`` (id 0).

        Confidence is the fraction of the box's pixels that changed, so larger solid movers
        rank above loose fragments.
        """
        boxes = self.boxes()
        if len(boxes) == 0 or self._mask is None:
            return Detections.empty()
        small_h, small_w = self._mask.shape
        fx = self._source_shape[1] / small_w
        fy = self._source_shape[0] / small_h
        conf = []
        for x1, y1, x2, y2 in boxes:
            region = self._mask[
                int(y1 / fy) : max(int(y1 / fy) + 1, round(y2 / fy)),
                int(x1 / fx) : max(int(x1 / fx) + 1, round(x2 / fx)),
            ]
            conf.append(float(region.mean()) if region.size else 0.0)
        return Detections(
            xyxy=boxes,
            confidence=np.asarray(conf, np.float32),
            class_id=np.zeros(len(boxes), np.int32),
        )
