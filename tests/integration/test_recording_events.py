"""Events as ranges over the store: a presence longer than the live buffer keeps its whole clip
(the demo camera's 6-minute event at a smaller scale), on a real RTSP camera and real Ray."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.support.media import decode_errors, probe, to_annexb
from tests.support.rtsp import RtspServer, gstreamer_available
from tests.support.scenes import presence_scene
from tests.support.wait import wait_for

pytestmark = pytest.mark.skipif(not gstreamer_available(), reason="GStreamer RTSP missing")

PRE, POST = 1, 2


def iso(epoch: float) -> str:
    return datetime.fromtimestamp(epoch, UTC).isoformat()


def epoch(text: str) -> float:
    return datetime.fromisoformat(text).timestamp()


@pytest.fixture(scope="module")
def long_presence(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RtspServer]:
    """A 90 s loop where a marker walks from 5 s to 50 s: a 45 s presence, then 40 s quiet."""
    folder = tmp_path_factory.mktemp("long")
    clip = presence_scene(folder / "long.mp4", loop_s=90, enter_s=5, leave_s=50)
    with RtspServer(to_annexb(clip), fps=25, log_path=folder / "server.log") as server:
        yield server


@pytest.fixture
def events_only(iris: Any, long_presence: RtspServer) -> Iterator[int]:
    with iris.client() as client:
        made = client.post("/api/cameras", json={
            "name": "Long presence", "rtsp_url": long_presence.url, "continuous_days": 0,
            "pre_seconds": PRE, "post_seconds": POST, "min_trigger_frames": 2,
            "detect_interval": 0.2})
        assert made.status_code == 201, made.text
        yield made.json()["id"]
        client.delete(f"/api/cameras/{made.json()['id']}")


def test_an_event_longer_than_the_live_buffer_keeps_its_whole_presence(
        iris: Any, events_only: int, tmp_path: Path) -> None:
    buffer = iris.settings.segment_retention_seconds
    with iris.client() as client:
        def long_event() -> dict | None:
            items = client.get("/api/events", params={"camera_id": events_only}).json()["items"]
            done = [e for e in items if not e["in_progress"] and e["end_ts"]
                    and epoch(e["end_ts"]) - epoch(e["ts"]) > buffer + 5]
            return done[0] if done else None

        event = wait_for(long_event, 240, interval=1, what="a presence longer than the buffer")
        presence = epoch(event["end_ts"]) - epoch(event["ts"])
        clip = client.get(event["clip_url"], timeout=60)
        assert clip.status_code == 200, clip.text
        path = tmp_path / "event.mp4"
        path.write_bytes(clip.content)
        # The clip covers first seen - pre … last seen + post (± a keyframe and a cut).
        duration = float(probe(path)["format"]["duration"])
        assert abs(duration - (presence + PRE + POST)) <= 2.0, (duration, presence)
        assert decode_errors(path) == ""
        # Meanwhile retention kept the camera to its live buffer elsewhere: the footage
        # between this event and the one before is gone (its range itself stayed whole).
        start = epoch(event["clip_start"])
        items = client.get("/api/events", params={"camera_id": events_only}).json()["items"]
        earlier = [epoch(e["clip_end"]) for e in items if e["clip_end"]
                   and epoch(e["clip_end"]) < start]
        quiet = (max(earlier, default=start - 600) + 6.5, start - 6.5)  # a segment apart

        def quiet_pruned() -> bool:
            answer = client.get("/api/recordings", params={
                "camera_id": events_only, "from": iso(quiet[0]), "to": iso(quiet[1])})
            return answer.json()["recorded_seconds"] == 0

        if quiet[1] > quiet[0]:
            wait_for(quiet_pruned, 60, interval=1, what="footage outside events pruned")
        inside = client.get("/api/recordings", params={
            "camera_id": events_only, "from": event["clip_start"], "to": event["clip_end"]})
        assert inside.json()["recorded_seconds"] >= presence + PRE + POST - 1.0


def test_an_event_in_progress_serves_what_is_recorded_so_far(iris: Any,
                                                             events_only: int) -> None:
    with iris.client() as client:
        def recording() -> dict | None:
            items = client.get("/api/events", params={"camera_id": events_only}).json()["items"]
            return next((e for e in items if e["in_progress"] and e["clip_url"]), None)

        event = wait_for(recording, 120, interval=0.5, what="an event in progress")

        def some_clip() -> httpx.Response | None:
            answer = client.get(event["clip_url"], timeout=60)
            return answer if answer.status_code == 200 else None

        clip = wait_for(some_clip, 30, what="footage of the event so far")
        assert clip.headers["cache-control"] == "no-store"
        assert clip.headers["content-type"] == "video/mp4" and len(clip.content) > 1000
