"""Looping test scenes: a static background where a marker walks in, stays and leaves."""

from __future__ import annotations

from pathlib import Path

from iris.models.standins import draw_marker
from tests.support.media import make_clip


def presence_scene(path: Path, *, kind: str = "person", loop_s: float = 20, enter_s: float = 3,
                   leave_s: float = 9, fps: int = 25, size: tuple[int, int] = (640, 360),
                   moving: bool = True) -> Path:
    """A `loop_s` clip where a `kind` marker is present from `enter_s` to `leave_s`.

    With `moving` the marker walks slowly (motion all along the presence); the background is
    static apart from it, so motion and presence coincide.
    """
    def marker(index: int, image) -> None:  # noqa: ANN001 - a BGR frame
        t = index / fps
        if enter_s <= t < leave_s:
            x = int(100 + (40 * (t - enter_s) if moving else 0)) % (size[0] - 80)
            draw_marker(image, (x, size[1] // 3, x + 60, size[1] // 3 + 180), kind)

    return make_clip(path, seconds=loop_s, fps=fps, size=size, audio=False, moving=False,
                     markers=marker)
