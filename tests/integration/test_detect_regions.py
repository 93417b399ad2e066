"""Motion-region crops and idle decoding on a real camera: stand-in detector, RTSP, real Ray.

The 720p scene loops every 14 s: a small "person" marker walks in near the bottom-right corner
at 2 s and leaves at 6 s, far from the centre, so the detector sees a crop around it rather
than the whole frame. Between presences nothing moves and nobody watches: the camera decodes
only keyframes, and its recording still holds every frame.
"""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from iris.layout import Layout
from iris.models.standins import build_standin_detector, draw_marker
from iris.recording.segment import Segment
from tests.integration.conftest import IrisInstance, extra_instance
from tests.integration.test_live_overlay import events as overlay_events
from tests.support.media import make_clip, to_annexb
from tests.support.rtsp import RtspServer, gstreamer_available
from tests.support.wait import wait_for

pytestmark = pytest.mark.skipif(not gstreamer_available(), reason="GStreamer RTSP missing")

LOOP_S, ENTER_S, LEAVE_S, FPS, SIZE = 14, 2.0, 6.0, 25, (1280, 720)
MARKER_W, MARKER_H, TOP = 48, 140, 540  # bottom-right, well away from the centre
START_X, SPEED = 1080, 30  # px, px/s


def marker_box(t: float) -> tuple[int, int, int, int]:
    x = int(START_X + SPEED * (t - ENTER_S))
    return x, TOP, x + MARKER_W, TOP + MARKER_H


@pytest.fixture(scope="module")
def scene(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RtspServer]:
    folder = tmp_path_factory.mktemp("regions-scene")

    def marker(index: int, image) -> None:  # noqa: ANN001 - a BGR frame
        t = index / FPS
        if ENTER_S <= t < LEAVE_S:
            draw_marker(image, marker_box(t), "person")

    clip = make_clip(folder / "corner.mp4", seconds=LOOP_S, fps=FPS, size=SIZE, audio=False,
                     moving=False, markers=marker)
    server = RtspServer(to_annexb(clip), fps=FPS, log_path=folder / "rtsp.log").start()
    yield server
    server.stop()


@pytest.fixture(scope="module")
def standin(iris: IrisInstance, tmp_path_factory: pytest.TempPathFactory
            ) -> Iterator[IrisInstance]:
    folder = tmp_path_factory.mktemp("regions-standin")
    weights = build_standin_detector(folder / "standin.onnx", imgsz=320)
    with extra_instance(iris, "regions", data_dir=folder / "data", detector_model=weights,
                        detector_batch_wait_s=0.05, detect_crop=True,
                        idle_decode="keyframes", segment_seconds=2.0) as instance:
        yield instance


def worker(instance: IrisInstance, camera_id: int) -> dict:
    with instance.client() as client:
        workers = client.get("/api/system").json()["workers"]
    return next((w for w in workers if w["camera_id"] == camera_id), {})


def frame_count(path: Path) -> int:
    """Video frames in a recorded segment (its packets: one frame each, nothing decoded)."""
    out = subprocess.run(
        ["ffprobe", "-v", "error", "-count_packets", "-select_streams", "v:0",
         "-show_entries", "stream=nb_read_packets", "-of", "csv=p=0", str(path)],
        check=True, capture_output=True, text=True)
    return int(out.stdout.strip())


def test_a_distant_small_mover_is_detected_in_a_crop_and_idle_footage_is_whole(
        standin: IrisInstance, scene: RtspServer) -> None:
    with standin.client() as client:
        created = client.post("/api/cameras", json={
            "name": "Corner", "rtsp_url": scene.url, "detect_interval": 0.2,
            "detect_imgsz": 320, "pre_seconds": 1, "post_seconds": 1, "trigger_cooldown": 2,
            "min_trigger_frames": 2, "faces_enabled": False, "reid_enabled": False})
        assert created.status_code == 201, created.text
        camera = created.json()["id"]
        try:
            wait_for(lambda: client.get(f"/api/cameras/{camera}/status").json()["detector"]
                     == "ok", 90, what="the stand-in detector in use")
            with client.stream("GET", f"/api/live/{camera}/detections") as response:
                assert response.status_code == 200
                seen = list(overlay_events(response, 1.5 * LOOP_S))
            boxes = [box for event in seen for box in event["boxes"]]
            # Nobody watches from here on: idle stretches decode keyframes only.
            found = wait_for(
                lambda: [e for e in client.get("/api/events", params={"camera_id": camera})
                         .json()["items"] if not e.get("in_progress")],
                3 * LOOP_S, what="a person event")
            state = wait_for(lambda: (w := worker(standin, camera)).get(
                "frames_not_decoded", 0) > 2 * FPS and w, 3 * LOOP_S,
                what="frames left undecoded while idle")
            segments = sorted(
                s for p in Layout(standin.settings.root).segments(camera).glob("*.mp4")
                if (s := Segment.from_path(p)) is not None)
            # The newest whole segments (the last may be open), recorded while decoding idled.
            counts = [(frame_count(s.path), s.duration * FPS) for s in segments[-5:-1]]
        finally:
            client.delete(f"/api/cameras/{camera}")

    assert boxes, f"no boxes in {len(seen)} overlay events"
    assert {box["label"] for box in boxes} == {"person"}
    lo = marker_box(ENTER_S)
    hi = marker_box(LEAVE_S)
    for box in boxes:  # where the marker is, in whole-frame coordinates
        x1, y1, x2, y2 = box["box"]
        assert lo[0] / SIZE[0] - 0.02 <= x1 and x2 <= hi[2] / SIZE[0] + 0.02, box
        assert abs(y1 - TOP / SIZE[1]) < 0.02 and abs(y2 - (TOP + MARKER_H) / SIZE[1]) < 0.02
        assert abs((x2 - x1) - MARKER_W / SIZE[0]) < 0.02, box
    assert found[0]["label"] == "person"
    # Most detections ran on a crop (the whole frame only once the mover and its track left).
    assert state["detections_cropped"] >= 0.5 * state["detections"] > 0, state
    # Every frame recorded, idle or not.
    assert len(counts) >= 3
    for frames, expected in counts:
        assert abs(frames - expected) <= 1, counts
