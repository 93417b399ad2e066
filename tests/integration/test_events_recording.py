"""Deleting events while a real camera records one: the open event is left to finish."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

import httpx
import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session

from iris.db.tables import Event
from tests.support.media import to_annexb
from tests.support.rtsp import RtspServer, gstreamer_available
from tests.support.scenes import presence_scene
from tests.support.wait import wait_for

pytestmark = pytest.mark.skipif(not gstreamer_available(), reason="GStreamer RTSP missing")


@pytest.fixture(scope="module")
def long_presence(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RtspServer]:
    """A 30 s loop where a marker walks from 2 s to 24 s: motion, so an event, all along."""
    folder = tmp_path_factory.mktemp("presence")
    clip = presence_scene(folder / "long.mp4", loop_s=30, enter_s=2, leave_s=24)
    server = RtspServer(to_annexb(clip), fps=25, log_path=folder / "server.log")
    server.start()
    yield server
    server.stop()


@pytest.fixture
def camera(client: httpx.Client, long_presence: RtspServer) -> Iterator[int]:
    created = client.post("/api/cameras", json={
        "name": "Hall", "rtsp_url": long_presence.url, "pre_seconds": 1, "post_seconds": 2,
        "min_trigger_frames": 2, "detect_interval": 0.2})
    assert created.status_code == 201, created.text
    camera_id = created.json()["id"]
    yield camera_id
    client.delete(f"/api/cameras/{camera_id}")


def test_clear_all_and_bulk_delete_leave_an_event_being_recorded(
        client: httpx.Client, camera: int, engine: Engine, iris) -> None:
    root = iris.settings.root

    def open_event() -> dict | None:
        items = client.get("/api/events", params={"camera_id": camera}).json()["items"]
        return next((e for e in items if e["in_progress"]), None)

    recording = wait_for(open_event, 90, what="an event being recorded")
    old_clip = root / "clips" / str(camera) / "old.mp4"
    old_clip.parent.mkdir(parents=True, exist_ok=True)
    old_clip.write_bytes(b"an earlier recording")
    with Session(engine) as session:
        old = Event(camera_id=camera, ts=datetime(2030, 1, 1, tzinfo=UTC),
                    clip_path=str(old_clip.relative_to(root)))
        session.add(old)
        session.commit()

    cleared = client.post("/api/events/clear-all", json={"confirm": True, "camera_id": camera})
    assert cleared.status_code == 200, cleared.text
    assert cleared.json() == {"deleted": 1, "kept": 1}
    assert not old_clip.exists()
    bulk = client.post("/api/events/bulk-delete", json={"ids": [recording["id"]]})
    assert bulk.json() == {"deleted": 0, "kept": 1}

    # The camera finishes it as usual: a row with its clip, not a clip without its row.
    def finished() -> dict | None:
        found = client.get(f"/api/events/{recording['id']}")
        assert found.status_code == 200, found.text
        return found.json() if not found.json()["in_progress"] else None

    done = wait_for(finished, 90, what="the kept event finished")
    assert done["clip_url"], done
    assert client.get(done["clip_url"]).status_code == 200  # cut from the store, cached
    cached = root / "clips" / str(camera) / "cache" / f"event-{recording['id']}.mp4"
    assert cached.is_file()
    # Once finished, it can be deleted like any other, its cached clip with it.
    gone = client.post("/api/events/bulk-delete", json={"ids": [recording["id"]]})
    assert gone.json() == {"deleted": 1, "kept": 0}
    assert not cached.exists()
