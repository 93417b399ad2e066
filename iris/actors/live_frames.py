"""The latest decoded frame of a camera, converted to BGR and JPEG only when someone asks (no Ray).

Converting a decoded 720p frame to BGR costs about 2.6 ms here, as much as decoding it, and at
25 fps most frames are never looked at (detection runs at a few fps, viewers poll at a few
more), so frames are kept as decoded and converted once, on first use.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Sequence

import av
import cv2
import numpy as np

from iris.live.overlay import OVERLAY_MAX_AGE_S, OverlayFeed
from iris.types import Detections

JPEG_QUALITY = 80
_COLOURS = [(255, 0, 255), (0, 200, 255), (0, 255, 0), (255, 128, 0), (0, 128, 255)]


class LatestFrame:
    """Holds the newest frame; `jpeg(after_seq)` long-polls for a newer one and encodes it once."""

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._converting = threading.Lock()
        self._converted: tuple[int, np.ndarray] | None = None
        self._frame: np.ndarray | av.VideoFrame | None = None
        self.seq = 0
        self.wall_time = 0.0
        self._cache: tuple[int, bytes] | None = None
        self._overlay: tuple[float, Detections, list[str]] | None = None
        self.overlays = OverlayFeed()  # the same boxes for overlays browsers draw
        self.encodes = 0
        self.conversions = 0

    def put(self, frame: np.ndarray | av.VideoFrame, wall_time: float) -> None:
        """A new frame: BGR uint8 HxWx3, or a decoded frame to convert when first asked for."""
        with self._cond:
            self._frame = frame
            self.seq += 1
            self.wall_time = wall_time
            self._cond.notify_all()

    def peek(self) -> tuple[int, float]:
        """Sequence number and wall time of the newest frame, without converting it."""
        with self._cond:
            return self.seq, self.wall_time

    def latest(self) -> tuple[int, np.ndarray | av.VideoFrame | None, float]:
        """Sequence number, frame as decoded (not converted) and wall time of the newest frame."""
        with self._cond:
            return self.seq, self._frame, self.wall_time

    def get(self) -> tuple[int, np.ndarray | None, float]:
        """The newest frame as BGR, converted at most once per frame whoever asks."""
        seq, frame, wall = self.latest()
        return seq, None if frame is None else self.bgr(seq, frame), wall

    def bgr(self, seq: int, frame: np.ndarray | av.VideoFrame) -> np.ndarray:
        """Frame `seq` (as `latest` gave it) as BGR, converted at most once whoever asks.

        Conversions take their own lock, not the frame's: ingest goes on meanwhile, but two
        threads never convert at once. A PyAV frame converts through one scaler context of its
        own, and two threads in it (detection and a live viewer asking for the same frame)
        crash or deadlock the camera's process.
        """
        if not isinstance(frame, av.VideoFrame):
            return frame
        with self._converting:
            converted = self._converted
            if converted is not None and converted[0] == seq:
                return converted[1]  # the other thread converted it meanwhile
            image = frame.to_ndarray(format="bgr24")
            self._converted = (seq, image)
        with self._cond:
            if self.seq == seq and self._frame is frame:
                self._frame = image
            self.conversions += 1
        return image

    def wait_newer(self, after_seq: int, timeout: float) -> bool:
        with self._cond:
            return self._cond.wait_for(lambda: self.seq > after_seq and self._frame is not None,
                                       timeout=timeout)

    def annotate(self, detections: Detections, labels: list[str],
                 zones: Sequence[tuple[str, ...]] | None = None) -> None:
        """Boxes to draw on the next JPEGs (frame coordinates) and to send to overlays, with
        the zones each box is in."""
        self._overlay = (time.time(), detections, labels)
        self.overlays.publish(detections, labels, *self.size(), zones=zones)

    def size(self) -> tuple[int, int]:
        """(width, height) of the newest frame; (0, 0) before the first."""
        frame = self._frame
        if isinstance(frame, av.VideoFrame):
            return frame.width, frame.height
        if frame is None:
            return 0, 0
        return int(frame.shape[1]), int(frame.shape[0])

    def jpeg(self, after_seq: int, timeout: float) -> tuple[int, bytes] | None:
        """The newest frame unless it is `after_seq`'s, as JPEG; None if none came in time.

        Any other number counts as older: a poller that saw a camera process that has since
        restarted asks after a number this one has not reached, and would wait it out.
        """
        with self._cond:
            if not self._cond.wait_for(
                    lambda: self.seq != after_seq and self._frame is not None, timeout=timeout):
                return None
        seq, frame, _ = self.get()
        cached = self._cache
        if cached is not None and cached[0] == seq:
            return cached
        assert frame is not None
        image = self._draw(frame)
        ok, encoded = cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, JPEG_QUALITY])
        if not ok:
            return None
        self.encodes += 1
        self._cache = (seq, encoded.tobytes())
        return self._cache

    def _draw(self, frame: np.ndarray) -> np.ndarray:
        overlay = self._overlay
        if overlay is None or time.time() - overlay[0] > OVERLAY_MAX_AGE_S or not len(overlay[1]):
            return frame
        _, dets, labels = overlay
        image = frame.copy()
        thickness = max(1, frame.shape[1] // 640)
        scale = max(0.45, frame.shape[1] / 1600)
        for index in range(len(dets)):
            x1, y1, x2, y2 = (int(v) for v in dets.xyxy[index])
            track = dets.tracker_id[index] if dets.tracker_id is not None else None
            colour = _COLOURS[int(track or 0) % len(_COLOURS)]
            text = f"{labels[index]} {dets.confidence[index]:.2f}"
            if track is not None:
                text = f"#{int(track)} {text}"
            cv2.rectangle(image, (x1, y1), (x2, y2), colour, thickness)
            cv2.putText(image, text, (x1, max(14, y1 - 6)), cv2.FONT_HERSHEY_SIMPLEX,
                        scale, colour, thickness, cv2.LINE_AA)
        return image
