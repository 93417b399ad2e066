"""Masks and required zones on real RTSP cameras: what moves under a mask records nothing, an
object that never enters a required zone records nothing, one that walks into it records an
alert that names the zone (stand-in detector markers, the same clip for every camera).

The scene loops every 12 s: a marker walks in at 2 s from x = 100 px at 40 px/s and leaves at
8 s, so its feet (bottom centre, y = 0.83) cross x = 0.45 of the frame about 3.7 s in and
never pass x = 0.6.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from iris.models.standins import build_standin_detector, draw_marker
from tests.integration.conftest import IrisInstance, extra_instance
from tests.support.media import backgrounds, make_clip, to_annexb
from tests.support.rtsp import RtspServer, gstreamer_available
from tests.support.wait import wait_for

pytestmark = pytest.mark.skipif(not gstreamer_available(), reason="GStreamer RTSP missing")

LOOP_S, ENTER_S, LEAVE_S, FPS = 12, 2.0, 8.0, 25
SIZE = (640, 360)
MARKER = (80, 240)  # width, height: feet at y = 300 of 360
CAMERA = {"pre_seconds": 1, "post_seconds": 1, "trigger_cooldown": 1, "min_trigger_frames": 2,
          "detect_interval": 0.1, "detect_imgsz": 320}
PATH_MASK = [[0.1, 0.0], [0.8, 0.0], [0.8, 1.0], [0.1, 1.0]]  # all the marker's way
DRIVE = {"name": "drive", "polygon": [[0.45, 0.5], [1, 0.5], [1, 1], [0.45, 1]]}
GATE = {"name": "gate", "polygon": [[0.85, 0.5], [1, 0.5], [1, 1], [0.85, 1]]}


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RtspServer]:
    folder = tmp_path_factory.mktemp("zone-scene")

    def walker(index: int, image) -> None:  # noqa: ANN001 - a BGR frame
        t = index / FPS
        if ENTER_S <= t < LEAVE_S:
            x = int(100 + 40 * (t - ENTER_S))
            draw_marker(image, (x, 60, x + MARKER[0], 60 + MARKER[1]), "person")

    # One background all along: a change of background would be motion outside the mask.
    clip = make_clip(folder / "walk.mp4", seconds=LOOP_S, fps=FPS, size=SIZE, audio=False,
                     moving=False, images=[backgrounds(SIZE)[0]], markers=walker)
    running = RtspServer(to_annexb(clip), fps=FPS, log_path=folder / "rtsp.log")
    running.start()
    yield running
    running.stop()


def add_camera(instance: IrisInstance, name: str, url: str, **extra: object) -> int:
    with instance.client() as client:
        created = client.post("/api/cameras", json={"name": name, "rtsp_url": url,
                                                    **CAMERA, **extra})
    assert created.status_code == 201, created.text
    return int(created.json()["id"])


def events(instance: IrisInstance, camera_id: int, **filters: object) -> list[dict]:
    """Every event of the camera, in progress or not."""
    with instance.client() as client:
        found = client.get("/api/events", params={"camera_id": camera_id, "limit": 100,
                                                  **filters})
    assert found.status_code == 200, found.text
    return list(found.json()["items"])


def finished(instance: IrisInstance, camera_id: int) -> list[dict]:
    return [e for e in events(instance, camera_id) if not e["in_progress"]]


def remove(instance: IrisInstance, *camera_ids: int) -> None:
    with instance.client() as client:
        for camera_id in camera_ids:
            client.delete(f"/api/cameras/{camera_id}")


def test_a_masked_walk_records_no_motion_event_and_the_same_walk_unmasked_does(
    iris, server
) -> None:
    masked = add_camera(iris, "Trees masked", server.url, motion_masks=[PATH_MASK])
    plain = add_camera(iris, "Trees", server.url)
    try:
        recorded = wait_for(lambda: len(found := finished(iris, plain)) >= 2 and found,
                            4 * LOOP_S + 40, what="two motion events of the unmasked camera")
        assert all(e["kind"] == "motion" and e["severity"] == "alert" for e in recorded)
        # Both cameras watched the same walks: the masked one never saw motion.
        assert events(iris, masked) == []
        with iris.client() as client:
            shown = client.get(f"/api/cameras/{masked}").json()
        assert shown["motion_masks"] == [PATH_MASK]
    finally:
        remove(iris, masked, plain)


@pytest.fixture(scope="module")
def standin(iris, tmp_path_factory: pytest.TempPathFactory) -> Iterator[IrisInstance]:
    folder = tmp_path_factory.mktemp("zones-standin")
    weights = build_standin_detector(folder / "standin.onnx", imgsz=320)
    with extra_instance(iris, "zones", data_dir=folder / "data", detector_model=weights,
                        detector_batch_wait_s=0.05, segment_retention_seconds=90,
                        stationary_seconds=0) as instance:
        yield instance


def test_an_object_outside_the_required_zone_records_nothing_and_one_walking_in_alerts(
    standin, server
) -> None:
    never = add_camera(standin, "Gate", server.url, zones=[DRIVE, GATE],
                       required_zones=["gate"])
    walks_in = add_camera(standin, "Drive", server.url, zones=[DRIVE, GATE],
                          required_zones=["drive"])
    try:
        recorded = wait_for(lambda: len(found := finished(standin, walks_in)) >= 2 and found,
                            4 * LOOP_S + 60, what="two person events entering the drive")
        for event in recorded:
            assert event["label"] == "person" and event["kind"] == "track"
            assert event["zones"] == ["drive"] and event["severity"] == "alert"
            assert event["reviewed"] is False
        # The same person walked by the other camera, never reaching its gate zone.
        assert events(standin, never) == []
        # The filters over the API find them by zone, severity and review state.
        ids = {e["id"] for e in recorded}
        assert ids <= {e["id"] for e in events(standin, walks_in, zone="drive",
                                               severity="alert", reviewed=False)}
        assert events(standin, walks_in, zone="gate") == []
        with standin.client() as client:
            marked = client.post("/api/events/review", json={"ids": sorted(ids),
                                                             "reviewed": True})
            assert marked.json() == {"updated": len(ids)}
            counts = client.get("/api/events/unreviewed").json()
        assert counts["by_camera"].get(str(walks_in), 0) <= len(
            events(standin, walks_in)) - len(ids)
        assert ids.isdisjoint(e["id"] for e in events(standin, walks_in, reviewed=False))
    finally:
        remove(standin, never, walks_in)
