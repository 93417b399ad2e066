"""Detection overlays as server-sent events: a stand-in detector, a real RTSP camera, real Ray.

The scene loops every 12 s: a "person" marker walks in at 2 s and leaves at 7 s. While it is
there, the events carry its tracked box (label, track id, score, 0–1 coordinates where the
marker is drawn); once it has gone, they carry none.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from iris.models.standins import build_standin_detector
from tests.integration.conftest import IrisInstance, extra_instance
from tests.support.media import to_annexb
from tests.support.rtsp import RtspServer, gstreamer_available
from tests.support.scenes import presence_scene
from tests.support.wait import wait_for

pytestmark = pytest.mark.skipif(not gstreamer_available(), reason="GStreamer RTSP missing")

LOOP_S, ENTER_S, LEAVE_S, FPS, SIZE = 12, 2.0, 7.0, 25, (640, 360)


@pytest.fixture(scope="module")
def scene(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RtspServer]:
    folder = tmp_path_factory.mktemp("overlay-scene")
    clip = presence_scene(folder / "person.mp4", kind="person", loop_s=LOOP_S, enter_s=ENTER_S,
                          leave_s=LEAVE_S, fps=FPS, size=SIZE)
    server = RtspServer(to_annexb(clip), fps=FPS, log_path=folder / "rtsp.log").start()
    yield server
    server.stop()


@pytest.fixture(scope="module")
def standin(iris: IrisInstance, tmp_path_factory: pytest.TempPathFactory
            ) -> Iterator[IrisInstance]:
    folder = tmp_path_factory.mktemp("overlay-standin")
    weights = build_standin_detector(folder / "standin.onnx", imgsz=320)
    with extra_instance(iris, "overlay", data_dir=folder / "data", detector_model=weights,
                        detector_batch_wait_s=0.05) as instance:
        yield instance


def events(response: httpx.Response, seconds: float) -> Iterator[dict[str, Any]]:
    """The `detections` events of an open event stream, for up to `seconds`."""
    deadline = time.monotonic() + seconds
    kind, data = None, None
    for line in response.iter_lines():
        if line.startswith("event: "):
            kind = line.removeprefix("event: ")
        elif line.startswith("data: "):
            data = line.removeprefix("data: ")
        elif line == "" and kind == "detections" and data is not None:
            yield json.loads(data)
            kind, data = None, None
        if time.monotonic() > deadline:
            return


def test_the_overlay_stream_carries_the_tracked_boxes(standin: IrisInstance,
                                                      scene: RtspServer) -> None:
    with standin.client() as client:
        created = client.post("/api/cameras", json={
            "name": "Overlay", "rtsp_url": scene.url, "detect_interval": 0.1,
            "detect_imgsz": 320, "faces_enabled": False, "reid_enabled": False})
        assert created.status_code == 201, created.text
        camera = created.json()["id"]
        try:
            wait_for(lambda: client.get(f"/api/cameras/{camera}/status").json()["detector"]
                     == "ok", 90, what="the stand-in detector in use")
            with client.stream("GET", f"/api/live/{camera}/detections") as response:
                assert response.status_code == 200
                assert response.headers["content-type"].startswith("text/event-stream")
                assert response.headers["cache-control"] == "no-store"
                seen = list(events(response, 2.5 * LOOP_S))
        finally:
            client.delete(f"/api/cameras/{camera}")
    with_boxes = [e for e in seen if e["boxes"]]
    assert with_boxes, f"no boxes in {len(seen)} events"
    boxes = [box for event in with_boxes for box in event["boxes"]]
    assert {box["label"] for box in boxes} == {"person"}
    assert all(box["track_id"] is not None and 0.5 <= box["score"] <= 1 for box in boxes)
    for box in boxes:
        x1, y1, x2, y2 = box["box"]
        assert 0 <= x1 < x2 <= 1 and 0 <= y1 < y2 <= 1, box
        assert 0.05 < x2 - x1 < 0.3 and 0.3 < y2 - y1 < 0.9, box  # the marker's shape
    # Detection-rate updates, numbered in order; and the boxes leave with the person.
    seqs = [e["seq"] for e in seen]
    assert seqs == sorted(seqs) and len(with_boxes) >= 10
    assert any(not e["boxes"] for e in seen[seen.index(with_boxes[0]):])
