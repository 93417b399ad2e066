"""The recording store end to end: a real RTSP camera (G.711 sound, frames that carry the wall
clock), real Ray, real files: continuous coverage, an outage as a gap, kill -9 of the camera,
footage at time T showing time T, G.711 recorded as AAC, and the VOD playlist in Chromium."""

from __future__ import annotations

import os
import signal
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import cv2
import httpx
import numpy as np
import pytest
import ray
from playwright.sync_api import sync_playwright
from sqlmodel import Session, select

from iris import names
from iris.db.tables import RecordingGap, RecordingSegment
from tests.support.clock_camera import ClockCamera, read_clock
from tests.support.media import decode_errors, probe
from tests.support.rtsp import gstreamer_available
from tests.support.wait import wait_for

pytestmark = pytest.mark.skipif(not gstreamer_available(), reason="GStreamer RTSP missing")

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]


def iso(epoch: float) -> str:
    return datetime.fromtimestamp(epoch, UTC).isoformat()


def epoch(text: str) -> float:
    return datetime.fromisoformat(text).timestamp()


@pytest.fixture(scope="module")
def clock_camera(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ClockCamera]:
    """A live camera sending H.264 and G.711 A-law, each frame stamped with its time."""
    folder = tmp_path_factory.mktemp("clock")
    with ClockCamera(audio="pcma", log_path=folder / "camera.log") as camera:
        yield camera


@pytest.fixture(scope="module")
def recording(iris: Any, clock_camera: ClockCamera) -> Iterator[int]:
    """A camera recording continuously (the default), its detection idle."""
    with iris.client() as client:
        made = client.post("/api/cameras", json={"name": "Clock", "rtsp_url": clock_camera.url,
                                                 "detect_interval": 60})
        assert made.status_code == 201, made.text
        assert made.json()["continuous_days"] > 0
        camera_id = made.json()["id"]
        yield camera_id
        client.delete(f"/api/cameras/{camera_id}")


def coverage(client: httpx.Client, camera_id: int, start: float, end: float) -> dict:
    answer = client.get("/api/recordings", params={"camera_id": camera_id, "from": iso(start),
                                                   "to": iso(end)})
    assert answer.status_code == 200, answer.text
    return answer.json()  # type: ignore[no-any-return]


def footage_end(client: httpx.Client, camera_id: int) -> float | None:
    spans = coverage(client, camera_id, time.time() - 3600, time.time() + 60)["spans"]
    return epoch(spans[-1]["end"]) if spans else None


def test_continuous_coverage_is_at_least_99_percent_of_wall_time(iris: Any,
                                                                 recording: int) -> None:
    with iris.client() as client:
        first = wait_for(lambda: coverage(client, recording, time.time() - 600,
                                          time.time())["spans"], 60, what="first footage")
        start = epoch(first[0]["start"])
        wait_for(lambda: (footage_end(client, recording) or 0) > start + 40, 90,
                 what="40 s of footage")
        end = footage_end(client, recording)
        assert end is not None
        answer = coverage(client, recording, start, end)
    assert answer["recorded_seconds"] / (end - start) >= 0.99, answer
    assert len(answer["spans"]) == 1 and answer["gaps"] == []


def test_footage_at_a_time_shows_that_time_and_g711_is_recorded_as_aac(
        iris: Any, recording: int, tmp_path: Path) -> None:
    with iris.client() as client:
        end = wait_for(lambda: footage_end(client, recording), 60, what="footage")
        at = end - 8
        clip = client.get(f"/api/recordings/{recording}/clip",
                          params={"from": iso(at), "to": iso(at + 4)})
    assert clip.status_code == 200, clip.text
    path = tmp_path / "export.mp4"
    path.write_bytes(clip.content)
    streams = {s["codec_type"]: s for s in probe(path)["streams"]}
    assert (streams["audio"]["codec_name"], streams["audio"]["sample_rate"]) == ("aac", "8000")
    assert decode_errors(path) == ""
    import av

    with av.open(str(path)) as container:
        frame = next(container.decode(video=0)).to_ndarray(format="gray")
    shown = read_clock(frame)
    assert shown is not None
    # The clip starts on the keyframe at or before `at` (GOP 1 s).
    assert at - 2 <= shown <= at + 0.5, (shown - at)


def test_an_rtsp_outage_is_a_gap_of_about_its_length(iris: Any, recording: int,
                                                     clock_camera: ClockCamera,
                                                     engine: Any) -> None:
    with iris.client() as client:
        wait_for(lambda: footage_end(client, recording), 60, what="footage")
        killed = time.time()
        clock_camera.kill()
        wait_for(lambda: client.get(f"/api/cameras/{recording}/status").json()["status"]
                 != "online", 30, what="the outage noticed")
        wait_for(lambda: time.time() - killed >= 6, 10, what="a 6 s outage")
        clock_camera.start()
        back = time.time()
        wait_for(lambda: (footage_end(client, recording) or 0) > back + 2, 60,
                 what="footage after the outage")
        gaps = coverage(client, recording, killed - 60, time.time())["gaps"]
    assert len(gaps) == 1, gaps
    start, end = epoch(gaps[0]["start"]), epoch(gaps[0]["end"])
    # From the last footage before the kill (up to a GOP and a cut before it) to the first
    # after the reconnect (its backoff is at most 10 s).
    assert killed - 2 <= start <= killed + 0.5
    assert back <= end <= back + 10 + 2
    with Session(engine) as session:
        row = session.execute(select(RecordingGap).where(
            RecordingGap.camera_id == recording)).scalars().one()
    assert "stream ended" in row.reason or "no data" in row.reason, row.reason


def test_kill_9_of_the_camera_loses_at_most_one_segment(iris: Any, recording: int,
                                                        engine: Any) -> None:
    root = iris.settings.root
    segment = iris.settings.segment_seconds
    with iris.client() as client:
        actor = ray.get_actor(names.camera_actor(recording), namespace=iris.settings.ray_namespace)
        pid = ray.get(actor.where.remote())["pid"]
        wait_for(lambda: footage_end(client, recording), 60, what="footage")
        killed = time.time()
        os.kill(pid, signal.SIGKILL)
        wait_for(lambda: ray.get(actor.where.remote())["pid"] != pid, 60, what="restarted")
        restarted = time.time()
        wait_for(lambda: (footage_end(client, recording) or 0) > restarted + 2, 60,
                 what="footage after the restart")
        spans = coverage(client, recording, killed - 120, time.time())["spans"]
    before = max(epoch(s["end"]) for s in spans if epoch(s["end"]) <= killed + 0.5)
    # What was lost is the segment being written: at most a segment (cut at a keyframe) long.
    assert killed - before <= segment + 1.5, killed - before
    # The store and the files agree after the restart's reconciliation.
    with Session(engine) as session:
        rows = set(session.execute(select(RecordingSegment.path).where(
            RecordingSegment.camera_id == recording)).scalars())
    folder = root / "segments" / str(recording)
    files = {str(p.relative_to(root)) for p in folder.glob("*.mp4")}
    open_part = len(list(folder.glob("*.part")))
    assert rows <= files and len(files - rows) <= 1 + open_part  # the one being indexed now
    with Session(engine) as session:
        reasons = list(session.execute(select(RecordingGap.reason).where(
            RecordingGap.camera_id == recording).order_by(RecordingGap.start)).scalars())
    assert reasons[-1].startswith("camera restarted"), reasons


def test_the_vod_playlist_plays_in_chromium_from_the_requested_time(
        iris: Any, recording: int, artifacts_dir: Path) -> None:
    with iris.client() as client:
        end = wait_for(lambda: footage_end(client, recording), 60, what="footage")
        start = end - 20
        params = f"from={iso(start)}&to={iso(end)}".replace("+", "%2B")
        playlist_url = f"/api/recordings/{recording}/playlist.m3u8?{params}"
        playlist = client.get(playlist_url)
    assert playlist.status_code == 200, playlist.text
    first = next(line for line in playlist.text.splitlines()
                 if line.startswith("#EXT-X-PROGRAM-DATE-TIME:"))
    origin = datetime.fromisoformat(first.split(":", 1)[1].replace("Z", "+00:00")).timestamp()
    page_url = f"{iris.base_url}/__test__/vod.html"
    html = (f'<!doctype html><video id="v" muted playsinline width="640" height="360" '
            f'src="{playlist_url}"></video>')
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 800, "height": 500})
            page.set_extra_http_headers(iris.headers)  # the player's requests carry the key
            page.route(page_url, lambda route: route.fulfill(body=html,
                                                             content_type="text/html"))
            page.goto(page_url)
            page.evaluate("document.getElementById('v').play()")
            page.wait_for_function("document.getElementById('v').currentTime > 3",
                                   timeout=60_000)
            page.evaluate("document.getElementById('v').pause()")
            position = page.evaluate("document.getElementById('v').currentTime")
            shot = page.locator("#v").screenshot(path=str(artifacts_dir / "vod_playlist.png"))
            state = page.evaluate("(() => { const v = document.getElementById('v'); "
                                  "return {error: v.error && v.error.message}; })()")
        finally:
            browser.close()
    assert state == {"error": None}
    image = cv2.imdecode(np.frombuffer(shot, np.uint8), cv2.IMREAD_COLOR)
    shown = read_clock(image)
    assert shown is not None, "no clock code in the played frame"
    assert abs(shown - (origin + position)) <= 2.0, (shown, origin + position)
