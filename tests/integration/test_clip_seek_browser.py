"""A `<video>` in Chromium seeks inside an event clip served by the API through the Serve proxy:
a clip file of its own, and a clip cut from the recording store on the first request."""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import UTC, datetime
from fractions import Fraction
from pathlib import Path
from typing import Any

import av
import httpx
import numpy as np
import pytest
from playwright.sync_api import sync_playwright
from sqlmodel import Session

from iris.db.engine import make_engine
from iris.db.tables import Event
from iris.layout import Layout
from iris.recording.index import add_segment
from iris.recording.segment import Segment
from iris.recording.writer import SegmentWriter
from iris.serve.files import MEDIA_WINDOW
from tests.support.media import is_faststart

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]
H264 = 'video/mp4; codecs="avc1.42E01E"'
FPS, SECONDS, SIZE = 25, 10, (320, 240)
SEEK_TO = 6.0
STATE = ("id => { const v = document.getElementById(id); "
         "return {error: v.error && v.error.message, paused: v.paused}; }")
ACROSS_TO = 5.5  # well past the end of the first window (second ~2.3)


def make_noisy_clip(path: Path) -> Path:
    """10 s of 320x240 H.264 (GOP 1 s, yuv420p, faststart) over noise, so it is several MiB.

    Noise makes the file larger than one MEDIA_WINDOW, so reaching second 6 needs a second
    Range request past the first window: the seek is served by the API, not by a buffer.
    """
    rng = np.random.default_rng(7)
    with av.open(str(path), "w", format="mp4", options={"movflags": "+faststart"}) as out:
        stream = out.add_stream("libx264", rate=FPS)
        stream.width, stream.height = SIZE
        stream.pix_fmt = "yuv420p"
        stream.time_base = Fraction(1, FPS)
        stream.options = {"preset": "ultrafast", "crf": "12",
                          "x264-params": f"keyint={FPS}:min-keyint={FPS}:scenecut=0:bframes=0"}
        for index in range(FPS * SECONDS):
            image = rng.integers(0, 256, (SIZE[1], SIZE[0], 3), dtype=np.uint8)
            image[8:40, 8 + index : 40 + index] = 255  # a block that moves: frames differ
            frame = av.VideoFrame.from_ndarray(image, format="rgb24")
            frame.pts = index
            out.mux(stream.encode(frame))
        out.mux(stream.encode(None))
    return path


@pytest.fixture
def clip_event(iris: Any) -> Iterator[tuple[int, int]]:
    """(event id, clip size) for a seeded event whose clip is a real H.264 MP4."""
    with httpx.Client(base_url=iris.base_url, headers=iris.headers, timeout=30) as client:
        camera_id = client.post("/api/cameras", json={"name": "seek", "enabled": False,
                                                      "rtsp_url": "rtsp://127.0.0.1:9/v"}
                                ).json()["id"]
        relative = f"clips/{camera_id}/seek.mp4"
        path = iris.settings.root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        make_noisy_clip(path)
        assert is_faststart(path)
        with Session(make_engine(iris.settings.resolved_database_url)) as session:
            event = Event(camera_id=camera_id, ts=datetime.now(UTC), clip_path=relative,
                          duration=SECONDS)
            session.add(event)
            session.commit()
            event_id = event.id
        assert event_id is not None
        yield event_id, path.stat().st_size
        client.delete(f"/api/cameras/{camera_id}")


@pytest.fixture
def store_event(iris: Any, tmp_path: Path) -> Iterator[tuple[int, int]]:
    """(event id, clip size) for an event that is a range of the recording store: the noisy
    clip recorded into real segments, its clip cut from them on the first request."""
    with httpx.Client(base_url=iris.base_url, headers=iris.headers, timeout=30) as client:
        camera_id = client.post("/api/cameras", json={"name": "seek store", "enabled": False,
                                                      "rtsp_url": "rtsp://127.0.0.1:9/v"}
                                ).json()["id"]
        layout = Layout(iris.settings.root)
        source = make_noisy_clip(tmp_path / "noisy.mp4")
        done: list[Segment] = []
        wall0 = time.time() - 60
        writer = SegmentWriter(layout.segments(camera_id), 2.0, on_segment=done.append)
        with av.open(str(source)) as container:
            video = container.streams.video[0]
            writer.open_streams([video])
            for packet in container.demux(video):
                if packet.size:
                    writer.write(packet, wall0 + float(packet.dts * packet.time_base))
        writer.close()
        engine = make_engine(iris.settings.resolved_database_url)
        with Session(engine) as session:
            for segment in done:
                add_segment(session, layout=layout, camera_id=camera_id, segment=segment)
            event = Event(camera_id=camera_id, ts=datetime.fromtimestamp(wall0, UTC),
                          clip_start=wall0, clip_end=wall0 + SECONDS)
            session.add(event)
            session.commit()
            event_id = event.id
        assert event_id is not None
        first = client.get(f"/api/events/{event_id}/clip", headers={"Range": "bytes=0-0"})
        assert first.status_code == 206, first.text
        yield event_id, int(first.headers["content-range"].split("/")[1])
        client.delete(f"/api/cameras/{camera_id}")


@pytest.mark.parametrize("source", ["clip_event", "store_event"])
def test_video_seeks_inside_a_clip_through_the_proxy(iris: Any, source: str,
                                                     request: pytest.FixtureRequest,
                                                     artifacts_dir: Path) -> None:
    event_id, size = request.getfixturevalue(source)
    assert size > MEDIA_WINDOW + (1 << 20), "the clip must span more than one media window"
    clip_url = f"/api/events/{event_id}/clip"
    page_url = f"{iris.base_url}/__test__/player.html"
    html = (f'<!doctype html><video id="v" muted playsinline preload="metadata" '
            f'src="{clip_url}"></video>')
    exchanges: list[dict[str, Any]] = []

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page()
            page.set_extra_http_headers(iris.headers)  # the <video> requests carry the key
            page.route(page_url, lambda route: route.fulfill(body=html,
                                                             content_type="text/html"))

            def record(response: Any) -> None:
                if clip_url in response.url:
                    exchanges.append({
                        "url": response.url.removeprefix(iris.base_url),
                        "status": response.status,
                        "range": response.request.all_headers().get("range"),
                        "content_range": response.headers.get("content-range"),
                    })

            page.on("response", record)
            page.goto(page_url)
            support = page.evaluate(f"document.createElement('video').canPlayType('{H264}')")
            assert support in ("probably", "maybe"), (
                f"this Chromium cannot play H.264 (canPlayType={support!r})")

            page.wait_for_function("document.getElementById('v').readyState >= 1",
                                   timeout=30_000)
            duration = page.evaluate("document.getElementById('v').duration")
            assert abs(duration - SECONDS) < 0.2, duration
            seekable_end = page.evaluate("(() => { const s = document.getElementById('v')"
                                         ".seekable; return s.length ? s.end(0) : 0; })()")
            assert seekable_end == pytest.approx(duration, abs=0.1)  # the server allows seeks

            page.evaluate(f"(() => {{ const v = document.getElementById('v'); "
                          f"v.currentTime = {SEEK_TO}; return v.play(); }})()")
            page.wait_for_function(
                f"(() => {{ const v = document.getElementById('v'); return !v.seeking && "
                f"v.currentTime >= {SEEK_TO} && v.readyState >= 2; }})()",
                timeout=30_000,
            )
            landed = page.evaluate("document.getElementById('v').currentTime")
            assert landed < SEEK_TO + 2, f"seek overshot to {landed}"
            page.wait_for_function(
                f"document.getElementById('v').currentTime > {landed + 1.0}", timeout=30_000
            )
            assert page.evaluate(STATE, "v") == {"error": None, "paused": False}
            page.evaluate("document.getElementById('v').pause()")
            # A fresh element plays from 0 across the end of the first window, no seek: the
            # player must come back for the bytes after a short 206 by itself.
            page.evaluate(f"""(() => {{
                const w = document.createElement('video');
                w.id = 'w'; w.muted = true; w.src = '{clip_url}?pass=2';
                document.body.appendChild(w); w.playbackRate = 4; return w.play(); }})()""")
            page.wait_for_function(
                f"document.getElementById('w').currentTime > {ACROSS_TO}", timeout=30_000
            )
            assert page.evaluate(STATE, "w") == {"error": None, "paused": False}
            page.screenshot(path=str(artifacts_dir / f"clip_seek_{source}.png"))
        finally:
            browser.close()

    assert exchanges, "the page never fetched the clip"
    assert all(x["status"] == 206 for x in exchanges), exchanges
    for x in exchanges:  # every answer is one window at most
        first, last = map(int, x["content_range"].split()[1].split("/")[0].split("-"))
        assert last - first + 1 <= MEDIA_WINDOW, x
    seeker = [x for x in exchanges if x["url"] == clip_url]
    # Second 6 lies past the first window: the seek made Chromium ask the API for it.
    assert any(int(x["range"].split("=")[1].split("-")[0]) > MEDIA_WINDOW for x in seeker), (
        exchanges)
    player = [x["range"] for x in exchanges if x["url"] != clip_url]
    # After the short first 206, the playing element came back for the next window by itself.
    assert player[:2] == ["bytes=0-", f"bytes={MEDIA_WINDOW}-"], exchanges
