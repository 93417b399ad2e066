"""Faults: a camera process killed, the whole `iris up` killed mid-event."""

from __future__ import annotations

import os
import signal
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import ray
from sqlmodel import Session, select

from iris import names
from iris.db.engine import make_engine
from iris.db.tables import Event, RecordingSegment
from iris.models.standins import build_standin_detector
from tests.integration.iris_process import IrisProcess
from tests.support.media import decode_errors, probe, to_annexb
from tests.support.rtsp import RtspServer, gstreamer_available
from tests.support.scenes import presence_scene
from tests.support.wait import wait_for

pytestmark = pytest.mark.skipif(not gstreamer_available(), reason="GStreamer RTSP missing")




@pytest.fixture(scope="module")
def long_presence(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RtspServer]:
    """A 40 s loop where a person marker is present from 2 s to 38 s."""
    folder = tmp_path_factory.mktemp("presence")
    clip = presence_scene(folder / "long.mp4", loop_s=40, enter_s=2, leave_s=38)
    server = RtspServer(to_annexb(clip), fps=25, log_path=folder / "server.log")
    server.start()
    yield server
    server.stop()


def test_killed_camera_process_comes_back(iris, long_presence) -> None:
    with iris.client() as client:
        camera = client.post("/api/cameras", json={"name": "Crash",
                                                   "rtsp_url": long_presence.url}).json()["id"]

        def online() -> bool:
            return client.get(f"/api/cameras/{camera}/status").json()["status"] == "online"

        try:
            wait_for(online, 30, what="online")
            actor = ray.get_actor(names.camera_actor(camera), namespace=iris.settings.ray_namespace)
            before = ray.get(actor.where.remote())
            os.kill(before["pid"], signal.SIGKILL)
            wait_for(lambda: client.get(f"/api/cameras/{camera}/status").json()["status"]
                     != "online" or ray.get(actor.where.remote())["pid"] != before["pid"], 30,
                     what="crash noticed")
            started = time.monotonic()
            wait_for(lambda: ray.get(actor.where.remote())["pid"] != before["pid"], 30,
                     what="restarted")
            wait_for(online, 30, what="online again")
            assert time.monotonic() - started < 30
        finally:
            client.delete(f"/api/cameras/{camera}")


def test_iris_killed_mid_event_recovers_the_event(long_presence, tmp_path: Path) -> None:
    weights = build_standin_detector(tmp_path / "standin.onnx", imgsz=320)
    iris = IrisProcess(tmp_path / "data", tmp_path / "iris.log",
                       IRIS_DETECTOR_MODEL=str(weights)).start()
    try:
        with iris.client() as client:
            camera = client.post("/api/cameras", json={
                "name": "Door", "rtsp_url": long_presence.url, "pre_seconds": 1,
                "post_seconds": 2, "min_trigger_frames": 2, "detect_interval": 0.2}).json()["id"]

            def open_event() -> dict | None:
                items = client.get("/api/events", params={"camera_id": camera}).json()["items"]
                return next((e for e in items if e["in_progress"]), None)

            event = wait_for(open_event, 90, what="an open event")
            segments = tmp_path / "data" / "segments" / str(camera)
            opened = time.time()
            wait_for(lambda: len([p for p in segments.glob("*.mp4")
                                  if int(p.name.split("-")[0]) / 1000 > opened]) >= 2, 30,
                     what="segments after the event opened")
        iris.kill_all()  # kill -9 of everything, the event still open

        iris.start()
        with iris.client() as client:
            def finished() -> dict | None:
                found = client.get(f"/api/events/{event['id']}")
                return found.json() if found.status_code == 200 and \
                    not found.json()["in_progress"] else None

            recovered = wait_for(finished, 90, what="the open event finished after restart")
            assert recovered["clip_url"], recovered
            clip = client.get(recovered["clip_url"])
            assert clip.status_code == 200
        path = tmp_path / "clip.mp4"
        path.write_bytes(clip.content)
        assert float(probe(path)["format"]["duration"]) >= 3
        assert decode_errors(path) == ""
    finally:
        iris.stop()

    # The index matches the files (reconciled at start-up, then kept in step at a clean
    # stop): every indexed segment has its file and every segment file its row.
    engine = make_engine(f"sqlite:///{tmp_path / 'data' / 'iris.db'}")
    with Session(engine) as session:
        rows = session.execute(select(Event)).scalars().all()
        indexed = set(session.execute(select(RecordingSegment.path)).scalars())
    on_disk = {str(p.relative_to(tmp_path / "data"))
               for p in (tmp_path / "data" / "segments").rglob("*.mp4")}
    assert indexed == on_disk and indexed
    assert not list((tmp_path / "data" / "segments").rglob("*.part"))
    assert all(not r.in_progress for r in rows)
    assert all(r.clip_path is None for r in rows)  # events are ranges of the store
