"""Draw the web app's install icons (web/icons/*.png) from the favicon's design, with Pillow.

The PNGs are committed (a few KB each); run this after changing the design:
`.venv/bin/python scripts/app-icons.py`. tests/integration/test_spa_phone.py checks the
manifest names them at their real sizes.
"""

from __future__ import annotations

from pathlib import Path

from PIL import Image, ImageDraw

ICONS = Path(__file__).resolve().parents[1] / "web" / "icons"
BACKGROUND, ACCENT = (11, 13, 18, 255), (79, 140, 255, 255)


def draw(size: int, *, maskable: bool) -> Image.Image:
    """The ring and pupil on the dark tile; a maskable icon keeps them in the safe 80 % circle."""
    scale = 4  # drawn large, scaled down: smooth edges
    big = size * scale
    image = Image.new("RGBA", (big, big), (0, 0, 0, 0))
    pen = ImageDraw.Draw(image)
    if maskable:
        pen.rectangle((0, 0, big, big), fill=BACKGROUND)
    else:
        pen.rounded_rectangle((0, 0, big - 1, big - 1), radius=big * 7 // 32, fill=BACKGROUND)
    unit = big / 32 * (0.8 if maskable else 1.0)
    centre = big / 2
    ring, width, pupil = 11 * unit, 3 * unit, 5 * unit
    pen.ellipse((centre - ring - width / 2, centre - ring - width / 2,
                 centre + ring + width / 2, centre + ring + width / 2), fill=ACCENT)
    pen.ellipse((centre - ring + width / 2, centre - ring + width / 2,
                 centre + ring - width / 2, centre + ring - width / 2), fill=BACKGROUND)
    pen.ellipse((centre - pupil, centre - pupil, centre + pupil, centre + pupil), fill=ACCENT)
    return image.resize((size, size), Image.Resampling.LANCZOS)


def main() -> None:
    ICONS.mkdir(parents=True, exist_ok=True)
    for size in (192, 512):
        draw(size, maskable=False).save(ICONS / f"iris-{size}.png", optimize=True)
    draw(512, maskable=True).save(ICONS / "iris-maskable-512.png", optimize=True)


if __name__ == "__main__":
    main()
