"""Test video generation: real H.264/H.265 (+AAC) files built from images shipped in packages.

Frames are package images (ultralytics' bus.jpg, insightface's t1.jpg, …) letterboxed to the
requested size, with a moving block and a frame counter so consecutive frames always differ.
A ``markers`` hook lets a test draw extra content (e.g. stand-in detection markers) per frame.
"""

from __future__ import annotations

import importlib.util
import subprocess
from collections.abc import Callable, Sequence
from fractions import Fraction
from pathlib import Path

import av
import cv2
import numpy as np

MarkerHook = Callable[[int, np.ndarray], None]
ImageSource = str | Path | np.ndarray

#: Images shipped inside installed packages, as (package, path inside the package).
PACKAGE_IMAGES: tuple[tuple[str, str], ...] = (
    ("ultralytics", "assets/bus.jpg"),
    ("ultralytics", "assets/zidane.jpg"),
    ("insightface", "data/images/t1.jpg"),
)

AUDIO_RATE = 48_000
AUDIO_FRAME_SAMPLES = 1024


def package_file(package: str, relative: str) -> Path | None:
    """Path of a data file inside an installed package, without importing the package."""
    spec = importlib.util.find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        return None
    for location in spec.submodule_search_locations:
        candidate = Path(location) / relative
        if candidate.is_file():
            return candidate
    return None


def package_images() -> list[Path]:
    """Every image of PACKAGE_IMAGES that is installed here (may be empty)."""
    found = (package_file(package, relative) for package, relative in PACKAGE_IMAGES)
    return [path for path in found if path is not None]


def _load(source: ImageSource) -> np.ndarray:
    if isinstance(source, np.ndarray):
        return source
    image = cv2.imread(str(source), cv2.IMREAD_COLOR)
    if image is None:
        raise FileNotFoundError(f"cannot read image {source}")
    return image


def _letterbox(image: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    width, height = size
    scale = min(width / image.shape[1], height / image.shape[0])
    resized = cv2.resize(image, (round(image.shape[1] * scale), round(image.shape[0] * scale)))
    canvas = np.full((height, width, 3), 114, np.uint8)
    top = (height - resized.shape[0]) // 2
    left = (width - resized.shape[1]) // 2
    canvas[top : top + resized.shape[0], left : left + resized.shape[1]] = resized
    return canvas


def _fallback_image(size: tuple[int, int]) -> np.ndarray:
    width, height = size
    x = np.linspace(0, 255, width, dtype=np.uint8)
    y = np.linspace(0, 255, height, dtype=np.uint8)
    image = np.zeros((height, width, 3), np.uint8)
    image[..., 0] = x[None, :]
    image[..., 1] = y[:, None]
    image[..., 2] = 128
    return image


def backgrounds(size: tuple[int, int], images: Sequence[ImageSource] | None = None) -> list[
    np.ndarray
]:
    """Letterboxed BGR backgrounds: the given images, else the package images, else a gradient."""
    sources: Sequence[ImageSource] = images if images is not None else package_images()
    loaded = [_letterbox(_load(source), size) for source in sources]
    return loaded or [_fallback_image(size)]


def render_frame(
    index: int, fps: int, background: np.ndarray, moving: bool = True
) -> np.ndarray:
    """One frame: the background plus a block moving across it and the frame number."""
    frame = background.copy()
    if not moving:
        return frame
    height, width = frame.shape[:2]
    block = max(16, height // 12)
    travel = max(1, width - block)
    x = (index * max(4, width // (3 * fps))) % travel
    y = height - 2 * block
    cv2.rectangle(frame, (x, y), (x + block, y + block), (0, 255, 255), -1)
    cv2.putText(frame, f"{index:06d}", (8, block), cv2.FONT_HERSHEY_SIMPLEX, block / 40,
                (255, 255, 255), 2, cv2.LINE_AA)
    return frame


def make_clip(
    path: str | Path,
    seconds: float = 6,
    fps: int = 25,
    size: tuple[int, int] = (1280, 720),
    images: Sequence[ImageSource] | None = None,
    audio: bool = True,
    gop_seconds: float = 1.0,
    markers: MarkerHook | None = None,
    codec: str = "h264",
    image_seconds: float | None = None,
    moving: bool = True,
) -> Path:
    """Write an MP4 of ``seconds`` at ``fps`` and ``size`` (width, height) and return its path.

    Video is H.264 (libx264; ``codec="hevc"`` for libx265), yuv420p, one slice per frame, no
    B-frames, a keyframe every ``gop_seconds``. Audio (when ``audio``) is a 440 Hz AAC sine,
    48 kHz mono. Backgrounds cycle through ``images`` (default: the package images), each shown
    for ``image_seconds`` (default: the whole clip split evenly). ``markers(i, bgr)`` may draw
    on frame ``i`` in place before it is encoded. ``moving=False`` leaves out the moving block
    and frame counter (a static scene, apart from what ``markers`` draws).
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    frames_total = max(1, round(seconds * fps))
    scenes = backgrounds(size, images)
    per_scene = image_seconds if image_seconds is not None else seconds / len(scenes)
    frames_per_scene = max(1, round(per_scene * fps))
    gop = max(1, round(gop_seconds * fps))

    with av.open(str(path), "w", format="mp4", options={"movflags": "+faststart"}) as out:
        video = _add_video_stream(out, codec, fps, size, gop)
        sound = out.add_stream("aac", rate=AUDIO_RATE, layout="mono") if audio else None
        audio_pts = 0
        for index in range(frames_total):
            image = render_frame(index, fps, scenes[(index // frames_per_scene) % len(scenes)],
                                 moving)
            if markers is not None:
                markers(index, image)
            frame = av.VideoFrame.from_ndarray(image, format="bgr24")
            frame.pts = index
            out.mux(video.encode(frame))
            if sound is not None:
                # Keep audio at or just ahead of video so the muxer interleaves evenly.
                while audio_pts < (index + 1) * AUDIO_RATE / fps:
                    out.mux(sound.encode(_sine_frame(audio_pts)))
                    audio_pts += AUDIO_FRAME_SAMPLES
        out.mux(video.encode(None))
        if sound is not None:
            out.mux(sound.encode(None))
    return path


def _add_video_stream(
    out: av.container.OutputContainer, codec: str, fps: int, size: tuple[int, int], gop: int
) -> av.VideoStream:
    if codec in ("h264", "libx264"):
        stream = out.add_stream("libx264", rate=fps)
        stream.options = {
            "tune": "zerolatency",
            "preset": "veryfast",
            "x264-params": f"keyint={gop}:min-keyint={gop}:scenecut=0:sliced-threads=0:bframes=0",
        }
    elif codec in ("hevc", "h265", "libx265"):
        stream = out.add_stream("libx265", rate=fps)
        stream.options = {
            "preset": "ultrafast",
            "x265-params": f"keyint={gop}:min-keyint={gop}:scenecut=0:bframes=0:log-level=error",
        }
        stream.codec_tag = "hvc1"
    else:
        raise ValueError(f"unsupported codec {codec!r}: use 'h264' or 'hevc'")
    stream.width, stream.height = size
    stream.pix_fmt = "yuv420p"
    stream.time_base = Fraction(1, fps)
    stream.codec_context.gop_size = gop
    return stream


def _sine_frame(first_sample: int) -> av.AudioFrame:
    t = (np.arange(AUDIO_FRAME_SAMPLES) + first_sample) / AUDIO_RATE
    samples = (0.2 * np.sin(2 * np.pi * 440.0 * t)).astype(np.float32)[None, :]
    frame = av.AudioFrame.from_ndarray(samples, format="fltp", layout="mono")
    frame.sample_rate = AUDIO_RATE
    frame.pts = first_sample
    frame.time_base = Fraction(1, AUDIO_RATE)
    return frame


def to_annexb(mp4_path: str | Path, out_path: str | Path | None = None) -> Path:
    """Extract the H.264 video of an MP4 as an Annex-B elementary stream (``.h264``)."""
    mp4_path = Path(mp4_path)
    target = Path(out_path) if out_path is not None else mp4_path.with_suffix(".h264")
    subprocess.run(
        ["ffmpeg", "-nostdin", "-y", "-v", "error", "-i", str(mp4_path), "-an", "-c:v", "copy",
         "-bsf:v", "h264_mp4toannexb", "-f", "h264", str(target)],
        check=True,
        capture_output=True,
    )
    return target


def probe(path: str | Path) -> dict:
    """ffprobe's JSON view (format + streams) of a media file."""
    import json

    result = subprocess.run(
        ["ffprobe", "-v", "error", "-print_format", "json", "-show_format", "-show_streams",
         str(path)],
        check=True,
        capture_output=True,
        text=True,
    )
    return json.loads(result.stdout)


def decode_errors(path: str | Path) -> str:
    """Everything ffmpeg reports at level ``error`` while decoding the whole file ('' = clean).

    The null output keeps each stream's own time base (``-enc_time_base -1``): in the default,
    1 / frame rate, two frames of a jittery camera closer than one frame interval round to one
    tick, and ffmpeg reports that as non-monotonic DTS although the file's DTS increase.
    """
    result = subprocess.run(
        ["ffmpeg", "-nostdin", "-v", "error", "-i", str(path), "-enc_time_base", "-1",
         "-f", "null", "-"],
        capture_output=True,
        text=True,
    )
    return (result.stderr + ("" if result.returncode == 0 else f"\nexit {result.returncode}"))


def is_faststart(path: str | Path) -> bool:
    """True when the MP4's ``moov`` box precedes ``mdat`` (playable while downloading)."""
    data = Path(path).read_bytes()
    offset = 0
    while offset + 8 <= len(data):
        size = int.from_bytes(data[offset : offset + 4], "big")
        kind = data[offset + 4 : offset + 8]
        if kind == b"moov":
            return True
        if kind == b"mdat":
            return False
        if size == 1:
            size = int.from_bytes(data[offset + 8 : offset + 16], "big")
        if size < 8:
            return False
        offset += size
    return False
