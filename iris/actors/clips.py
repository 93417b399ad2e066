"""Clip and thumbnail files of one camera, cut from its segment buffer (no Ray)."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from iris.actors.segments import ClipUnavailable, Segment, SegmentBuffer, assemble_clip
from iris.actors.segments import make_thumbnail as thumbnail_from_clip
from iris.media import relative_to_root

THUMB_WIDTH = 640


@dataclass(frozen=True)
class ClipFiles:
    clip_path: str  # relative to the data root
    thumb_path: str | None
    start: float
    duration: float


class ClipMaker:
    """Waits until the buffer covers a range, then remuxes it into clips/<cam>/<name>.mp4."""

    def __init__(self, root: Path, camera_id: int, buffer: SegmentBuffer) -> None:
        self.root = root
        self.buffer = buffer
        self.clips = root / "clips" / str(camera_id)
        self.thumbs = root / "thumbs" / str(camera_id)
        self.clips.mkdir(parents=True, exist_ok=True)
        self.thumbs.mkdir(parents=True, exist_ok=True)
        self._cond = threading.Condition()

    def segment_done(self, _segment: Segment) -> None:
        """SegmentWriter's on_segment callback: wakes anyone waiting for coverage."""
        with self._cond:
            self._cond.notify_all()

    def wait_covered(self, end: float, timeout: float) -> bool:
        """Block until a completed segment reaches `end` (or the timeout passes)."""
        deadline = time.monotonic() + timeout

        def covered() -> bool:
            segments = self.buffer.segments()
            return bool(segments) and segments[-1].end >= end

        with self._cond:
            while not covered():
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                self._cond.wait(min(left, 0.5))
        return True

    def make(self, name: str, start: float, end: float,
             best_frame: np.ndarray | None = None,
             best_box: tuple[float, float, float, float] | None = None) -> ClipFiles:
        """Assemble [start, end] and a thumbnail (the best detection, else the first frame)."""
        segments = self.buffer.covering(start, end)
        if not segments:
            raise ClipUnavailable(f"no recorded segments cover {start:.1f}–{end:.1f}")
        clip = self.clips / f"{name}.mp4"
        duration = assemble_clip(segments, start, end, clip)
        clip_start = max(start, segments[0].start)
        thumb = self.thumbs / f"{name}.jpg"
        if best_frame is not None:
            write_thumbnail(best_frame, best_box, thumb)
        else:
            thumbnail_from_clip(clip, thumb, max_width=THUMB_WIDTH)
        return ClipFiles(relative_to_root(self.root, clip), relative_to_root(self.root, thumb),
                         clip_start, duration)


def write_thumbnail(frame: np.ndarray, box: tuple[float, float, float, float] | None,
                    out: Path) -> Path:
    """The frame with the box drawn, scaled to THUMB_WIDTH, as JPEG (.part then rename)."""
    image = frame.copy()
    if box is not None:
        x1, y1, x2, y2 = (int(v) for v in box)
        cv2.rectangle(image, (x1, y1), (x2, y2), (255, 0, 255), max(2, frame.shape[1] // 400))
    scale = THUMB_WIDTH / image.shape[1]
    if scale < 1:
        image = cv2.resize(image, (THUMB_WIDTH, int(image.shape[0] * scale)),
                           interpolation=cv2.INTER_AREA)
    ok, encoded = cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, 85])
    if not ok:
        raise ValueError("could not encode thumbnail")
    part = out.with_suffix(".jpg.part")
    part.write_bytes(encoded.tobytes())
    part.replace(out)
    return out
