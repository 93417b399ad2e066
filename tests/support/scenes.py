"""Looping test scenes: a static background where a marker walks in, stays and leaves."""

from __future__ import annotations

from pathlib import Path

from iris.models.standins import draw_marker
from tests.support.media import make_clip


def presence_scene(path: Path, *, kind: str = "person", loop_s: float = 20, enter_s: float = 3,
                   leave_s: float = 9, fps: int = 25, size: tuple[int, int] = (640, 360),
                   moving: bool = True, face: int | None = None, start_x: int = 100) -> Path:
    """A `loop_s` clip where a `kind` marker is present from `enter_s` to `leave_s`.

    With `moving` the marker walks slowly (motion all along the presence); the background is
    static apart from it, so motion and presence coincide. `face` draws the stand-in face of
    that identity (iris.models.face_standins) on the marker's upper part.
    """
    width = max(60, size[0] // 8)
    height = min(size[1] - 20, width * 3)

    def marker(index: int, image) -> None:  # noqa: ANN001 - a BGR frame
        t = index / fps
        if enter_s <= t < leave_s:
            x = int(start_x + (40 * (t - enter_s) if moving else 0)) % (size[0] - width - 20)
            top = (size[1] - height) // 2
            draw_marker(image, (x, top, x + width, top + height), kind)
            if face is not None:
                from iris.models.face_standins import draw_face

                draw_face(image, (x + width // 2, top + width // 2), int(width * 0.2), face)

    return make_clip(path, seconds=loop_s, fps=fps, size=size, audio=False, moving=False,
                     markers=marker)
