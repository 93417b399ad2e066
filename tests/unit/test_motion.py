"""MotionGate: static scenes stay static under encoder noise; people moving are motion."""

from __future__ import annotations

from collections.abc import Callable, Sequence

import av
import cv2
import numpy as np
import pytest

from iris.actors.motion import MOTION_NAMES, MotionGate
from iris.types import box_iou

W, H = 1280, 720
Decode = Callable[[list[np.ndarray]], Sequence[np.ndarray | av.VideoFrame]]
PERSON = (60, 180)  # a person-sized block at 720p: 60 x 180 px


def scene(seed: int = 0) -> np.ndarray:
    """A textured background (low-frequency colour noise) like a real street scene."""
    rng = np.random.default_rng(seed)
    small = rng.integers(0, 256, (18, 32, 3), dtype=np.uint8)
    return cv2.resize(small, (W, H), interpolation=cv2.INTER_CUBIC)


def jpeg_noise(
    img: np.ndarray, rng: np.random.Generator, quality: int = 25, sigma: float = 12.0
) -> np.ndarray:
    """Heavy (night-time) sensor noise plus lossy compression, like a poor camera stream."""
    noise = rng.standard_normal(img.shape, dtype=np.float32) * sigma
    noisy = np.clip(img + noise, 0, 255).astype(np.uint8)
    ok, buf = cv2.imencode(".jpg", noisy, [cv2.IMWRITE_JPEG_QUALITY, quality])
    assert ok
    decoded = cv2.imdecode(buf, cv2.IMREAD_COLOR)
    assert decoded is not None
    return decoded


def with_person(img: np.ndarray, x: int, y: int = 400) -> tuple[np.ndarray, np.ndarray]:
    frame = img.copy()
    cv2.rectangle(frame, (x, y), (x + PERSON[0], y + PERSON[1]), (40, 50, 60), -1)
    return frame, np.array([[x, y, x + PERSON[0], y + PERSON[1]]], np.float32)


def h264_round_trip(frames: list[np.ndarray], crf: int = 32) -> list[np.ndarray]:
    """Encode with libx264 and decode again: the noise a real camera stream carries."""
    return [f.to_ndarray(format="bgr24") for f in h264_decoded(frames, crf)]


def h264_decoded(frames: list[np.ndarray], crf: int = 32) -> list[av.VideoFrame]:
    """`h264_round_trip`'s frames as the decoder gives them (YUV 4:2:0, not converted)."""
    import io

    buf = io.BytesIO()
    with av.open(buf, "w", format="mp4") as out:
        stream = out.add_stream("libx264", rate=10)
        stream.width, stream.height = frames[0].shape[1], frames[0].shape[0]
        stream.pix_fmt = "yuv420p"
        stream.options = {"crf": str(crf), "preset": "ultrafast"}
        for f in frames:
            out.mux(stream.encode(av.VideoFrame.from_ndarray(f, format="bgr24")))
        out.mux(stream.encode())
    buf.seek(0)
    with av.open(buf, "r") as container:
        return list(container.decode(video=0))


def test_static_scene_with_sensor_and_jpeg_noise_is_static() -> None:
    gate, rng, bg = MotionGate(), np.random.default_rng(1), scene()
    frames = [jpeg_noise(bg, rng) for _ in range(30)]
    # Naive full-resolution differencing would call this noise motion...
    raw_diff = np.abs(frames[1].astype(int) - frames[0].astype(int)).max(axis=2)
    assert (raw_diff > gate.pixel_threshold).mean() > gate.area_threshold
    # ...but the downscaled, blurred comparison sees none of it.
    results = [gate.update(f, now=i * 0.1) for i, f in enumerate(frames)]
    assert not any(results)
    assert gate.score < gate.area_threshold / 4


# The camera feeds the gate its frames as decoded (scaled down without converting the whole
# picture); converted frames take the other path. Both must judge a scene alike.
DECODES = pytest.mark.parametrize("decode", [h264_round_trip, h264_decoded],
                                  ids=["converted", "decoded"])


@DECODES
def test_static_scene_through_h264_is_static(decode: Decode) -> None:
    rng, bg = np.random.default_rng(2), scene(1)
    noisy = [
        np.clip(bg + rng.standard_normal(bg.shape, dtype=np.float32) * 6, 0, 255).astype(np.uint8)
        for _ in range(30)
    ]
    decoded = decode(noisy)
    gate = MotionGate()
    assert not any(gate.update(f, now=i * 0.1) for i, f in enumerate(decoded))


def test_walking_person_is_motion_and_boxed() -> None:
    gate, rng, bg = MotionGate(), np.random.default_rng(3), scene()
    for i in range(10):
        gate.update(jpeg_noise(bg, rng), now=i * 0.1)
    seen = []
    for step in range(8):
        frame, truth = with_person(bg, 200 + 25 * step)
        seen.append(gate.update(jpeg_noise(frame, rng), now=1.0 + step * 0.1))
        if step >= 1:
            dets = gate.detections()
            assert len(dets) >= 1
            assert box_iou(dets.xyxy, truth).max() > 0.3  # the box is on the person
            assert dets.labels(MOTION_NAMES)[0] == "motion"
    assert all(seen)
    assert gate.score >= gate.area_threshold


@DECODES
def test_walking_person_through_h264_is_motion(decode: Decode) -> None:
    bg = scene(4)
    frames = [bg] * 10 + [with_person(bg, 300 + 30 * k)[0] for k in range(10)]
    decoded = decode(frames)
    gate = MotionGate()
    results = [gate.update(f, now=i * 0.1) for i, f in enumerate(decoded)]
    assert not any(results[:10])
    assert all(results[11:])
    assert box_iou(gate.detections().xyxy, with_person(bg, 300 + 30 * 9)[1]).max() > 0.3


def test_motion_holds_then_ends() -> None:
    gate, bg = MotionGate(hold_seconds=2.0), scene()
    gate.update(bg, now=0.0)
    assert gate.update(with_person(bg, 500)[0], now=0.1)
    assert gate.update(bg, now=0.2)  # moved away again: still motion (difference)
    # The background settles; motion is held for 2 s after the last moving frame.
    t = 0.3
    while gate.update(bg, now=t) and gate.moving:
        t += 0.1
    last_motion = t - 0.1
    assert gate.update(bg, now=last_motion + 1.9)
    assert not gate.update(bg, now=last_motion + 2.2)


def test_a_parked_object_becomes_background() -> None:
    gate, bg = MotionGate(learning_rate=0.1), scene()
    gate.update(bg, now=0.0)
    parked, _ = with_person(bg, 600)
    results = [gate.update(parked, now=0.1 * k) for k in range(1, 200)]
    assert results[0]
    assert not results[-1]
    assert len(gate.detections()) == 0


def test_a_lighting_change_is_not_motion() -> None:
    gate, bg = MotionGate(), scene()
    gate.update(bg, now=0.0)
    night = (bg * 0.3).astype(np.uint8)  # the camera switches to night mode
    assert not gate.update(night, now=0.1)
    assert not gate.update(night, now=0.2)  # the new look is the background at once
    lit = night.copy()
    lit[400:580, 500:560] = 220  # someone in a light jacket walks in
    assert gate.update(lit, now=0.3)


def test_resolution_change_restarts_the_background() -> None:
    gate = MotionGate()
    gate.update(scene(), now=0.0)
    small = cv2.resize(scene(7), (640, 360))
    assert not gate.update(small, now=0.1)  # a new baseline, not a full-frame change
    assert not gate.update(small, now=0.2)


def test_grey_frames_work() -> None:
    gate, bg = MotionGate(), cv2.cvtColor(scene(), cv2.COLOR_BGR2GRAY)
    gate.update(bg, now=0)
    moved = bg.copy()
    moved[300:480, 400:460] = 0
    assert gate.update(moved, now=0.1)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"width": 8}, "width"),
        ({"blur": 4}, "blur"),
        ({"learning_rate": 0.0}, "learning_rate"),
        ({"area_threshold": 1.5}, "area_threshold"),
        ({"pixel_threshold": 0}, "pixel_threshold"),
        ({"hold_seconds": -1}, "hold_seconds"),
        ({"lighting_threshold": 0.001}, "lighting_threshold"),
    ],
)
def test_bad_settings_are_rejected(kwargs: dict[str, float], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        MotionGate(**kwargs)  # type: ignore[arg-type]


def test_non_image_is_rejected() -> None:
    with pytest.raises(ValueError, match="needs an image"):
        MotionGate().update(np.zeros((0, 5, 3), np.uint8))


@DECODES
def test_a_mover_as_bright_as_the_wall_behind_it_is_motion(decode: Decode) -> None:
    """Magenta on grey of the same brightness (7 grey levels apart): seen by its colour."""
    wall = np.full((H, W, 3), (110, 110, 110), np.uint8)
    magenta = (255, 0, 255)
    luma = cv2.cvtColor(np.uint8([[magenta]]), cv2.COLOR_BGR2GRAY)[0, 0]
    assert abs(int(luma) - 110) < 10  # the grey image alone would not see it
    frames = [wall.copy() for _ in range(3)]
    for x in (200, 230, 260):
        frame = wall.copy()
        cv2.rectangle(frame, (x, 400), (x + PERSON[0], 400 + PERSON[1]), magenta, -1)
        frames.append(frame)
    gate = MotionGate(hold_seconds=0)
    seen = [gate.update(frame, now=float(i)) for i, frame in enumerate(decode(frames))]
    assert seen[:3] == [False, False, False] and all(seen[3:]), seen
    assert box_iou(gate.boxes()[:1], np.array([[260, 400, 320, 580]], np.float32))[0, 0] > 0.3

