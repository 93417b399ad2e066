"""Event thumbnails: the best detection's frame with its box, or a recorded frame (no Ray)."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np

from iris.recording.clip import first_frame

THUMB_WIDTH = 640
JPEG_QUALITY = 85


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
    ok, encoded = cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, JPEG_QUALITY])
    if not ok:
        raise ValueError("could not encode thumbnail")
    out.parent.mkdir(parents=True, exist_ok=True)
    part = out.with_suffix(".jpg.part")
    part.write_bytes(encoded.tobytes())
    part.replace(out)
    return out


def thumbnail_of_recording(path: Path, out: Path) -> Path:
    """The first frame of a segment or clip as the thumbnail (no detection to show).

    Raises:
        iris.recording.clip.ClipUnavailable: the file has no video frame.
    """
    return write_thumbnail(first_frame(path), None, out)
