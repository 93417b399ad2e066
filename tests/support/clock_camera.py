"""A live RTSP test camera whose frames show when they were made, and the reader of that code.

The server (`clock_camera_server.py`, run by Debian's Python with GStreamer) draws, on every
frame, 64 blocks in a row near the top: 48 bits of epoch milliseconds then 16 check bits, most
significant first, white = 1. `read_clock` turns a decoded frame (any size: a screenshot of a
scaled `<video>` too) back into that time, or None when no valid code is visible, so a test can
tell which moment a played frame shows (recordings) and how old it is (live latency).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from tests.support.rtsp import SYSTEM_PYTHON, RtspServer

SERVER_SCRIPT = Path(__file__).with_name("clock_camera_server.py")
BITS, TIME_BITS, MARGIN = 64, 48, 8


class ClockCamera(RtspServer):
    """`rtsp://127.0.0.1:<port>/cam`: live frames stamped with the wall clock.

    Args:
        width, height, fps: the stream's geometry and rate.
        codec: ``h264`` or ``h265``.
        audio: ``none``, ``aac``, ``pcma``, ``pcmu`` (G.711) or ``opus``.
    """

    def __init__(self, *, width: int = 640, height: int = 360, fps: int = 15,
                 codec: str = "h264", audio: str = "none", port: int | None = None,
                 log_path: str | Path | None = None) -> None:
        super().__init__(SERVER_SCRIPT, fps=fps, port=port, log_path=log_path)
        self.width, self.height, self.codec, self.audio = width, height, codec, audio

    def command(self) -> list[str]:
        return [SYSTEM_PYTHON, str(SERVER_SCRIPT), "--port", str(self.port),
                "--width", str(self.width), "--height", str(self.height),
                "--fps", str(self.fps), "--codec", self.codec, "--audio", self.audio]


def _check_bits(value: int) -> int:
    folded = (value ^ (value >> 16) ^ (value >> 32)) & 0xFFFF
    return folded ^ 0xA5C3


def read_clock(image: np.ndarray, source_width: int = 640,
               source_height: int = 360) -> float | None:
    """The epoch seconds a clock-camera frame was made, or None if its code is unreadable.

    `image` is grey (H, W) or BGR/RGB(A) (H, W, C), at the source size or scaled.
    """
    grey = image if image.ndim == 2 else image[..., :3].mean(axis=2)
    height, width = grey.shape
    sx, sy = width / source_width, height / source_height
    cell = (source_width - 2 * MARGIN) // BITS
    code_height = max(12, source_height // 12)
    y0, y1 = int((MARGIN + code_height * 0.25) * sy), int((MARGIN + code_height * 0.75) * sy)
    code = 0
    for bit in range(BITS):
        x0 = int((MARGIN + bit * cell + cell * 0.25) * sx)
        x1 = max(x0 + 1, int((MARGIN + bit * cell + cell * 0.75) * sx))
        level = float(grey[y0:max(y1, y0 + 1), x0:x1].mean())
        code = (code << 1) | (1 if level > 128 else 0)
    value, check = code >> 16, code & 0xFFFF
    if value == 0 or _check_bits(value) != check:
        return None
    return value / 1000.0
