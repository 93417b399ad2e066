"""The "no signal" JPEG served before a camera's first frame, so <img> tags never break."""

from __future__ import annotations

from functools import cache

import numpy as np


@cache
def no_signal_jpeg(width: int = 640, height: int = 360) -> bytes:
    """A dark frame reading "No signal" (built once per size)."""
    import cv2

    image = np.full((height, width, 3), 24, np.uint8)
    text = "No signal"
    font = cv2.FONT_HERSHEY_SIMPLEX
    (tw, th), _ = cv2.getTextSize(text, font, 1.2, 2)
    cv2.putText(image, text, ((width - tw) // 2, (height + th) // 2), font, 1.2,
                (160, 160, 160), 2, cv2.LINE_AA)
    ok, encoded = cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, 80])
    assert ok
    return encoded.tobytes()
