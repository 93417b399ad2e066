"""The demo camera: a generated H.264 clip, played in a loop, so a new user sees live video."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
from sqlmodel import Session

from iris.db import cameras
from iris.db.engine import make_engine
from iris.settings import Settings

DEMO_NAME = "Demo camera"


def _package_image(package: str, relative: str) -> np.ndarray | None:
    """An image shipped inside an installed package (ultralytics, insightface), if present."""
    import importlib.util

    import cv2

    spec = importlib.util.find_spec(package)
    if spec is None or spec.origin is None:
        return None
    path = Path(spec.origin).parent / relative
    return cv2.imread(str(path)) if path.is_file() else None


def make_demo_clip(path: Path, *, seconds: float = 20.0, fps: int = 25,
                   size: tuple[int, int] = (1280, 720)) -> Path:
    """Write an H.264 MP4 (1 s GOP) of a slow pan over shipped photos with a moving subject."""
    import av
    import cv2

    width, height = size
    backdrop = _package_image("ultralytics", "assets/bus.jpg")
    subject = _package_image("insightface", "data/images/t1.jpg")
    if backdrop is None:
        backdrop = np.full((height, width, 3), 60, np.uint8)
    backdrop = cv2.resize(backdrop, (width + 200, height))
    if subject is not None:
        subject = cv2.resize(subject, (width // 4, height // 4))

    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".part.mp4")
    with av.open(str(tmp), "w") as container:
        stream = container.add_stream("libx264", rate=fps)
        stream.width, stream.height, stream.pix_fmt = width, height, "yuv420p"
        stream.options = {"g": str(fps), "keyint_min": str(fps), "preset": "veryfast",
                          "tune": "zerolatency", "crf": "28"}
        total = int(seconds * fps)
        for index in range(total):
            phase = index / total
            offset = int(100 + 100 * math.sin(2 * math.pi * phase))
            frame = backdrop[:, offset:offset + width].copy()
            if subject is not None:
                sh, sw = subject.shape[:2]
                x = int((width - sw) * phase)
                y = height - sh - 40
                frame[y:y + sh, x:x + sw] = subject
            cv2.putText(frame, f"Iris demo  {index / fps:5.1f}s", (24, 48),
                        cv2.FONT_HERSHEY_SIMPLEX, 1.2, (255, 255, 255), 2)
            video_frame = av.VideoFrame.from_ndarray(frame.astype(np.uint8), format="bgr24")
            for packet in stream.encode(video_frame):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)
    tmp.replace(path)
    return path


def ensure_demo_camera(settings: Settings) -> int:
    """Create (once) the demo clip and a camera that plays it; returns the camera id.

    The clip lives in the local sources folder (`local_sources_dir`, default
    `<data_dir>/demo`): the only place whose files may be camera sources.
    """
    clip = settings.local_sources_path / "demo.mp4"
    if not clip.is_file():
        make_demo_clip(clip)
    engine = make_engine(settings.resolved_database_url)
    with Session(engine) as session:
        camera = cameras.camera_named(session, name=DEMO_NAME) or cameras.create_camera(
            session, fields={"name": DEMO_NAME, "rtsp_url": clip.resolve().as_uri(),
                             "enabled": True})
        assert camera.id is not None
        return camera.id
