"""Live with sound: on-demand RTSP→HLS sessions through the API, a real RTSP camera, Chromium."""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import ray
from playwright.sync_api import sync_playwright
from sqlmodel import Session

from iris import names
from iris.db.engine import make_engine
from iris.db.tables import Camera
from tests.integration.conftest import GATEWAY_SECRET
from tests.support.media import make_clip, probe, to_annexb
from tests.support.rtsp import RtspServer, gstreamer_available

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]
SEGMENT_LINE = re.compile(r"seg[0-9]{5}\.ts")
CLIP = {"seconds": 4, "fps": 25, "size": (320, 180), "audio": True}


def wait_until(predicate: Callable[[], Any], timeout: float, what: str) -> Any:
    deadline = time.monotonic() + timeout
    while not (value := predicate()):
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {what}")
        time.sleep(0.1)
    return value


def hls_url(camera_id: int, name: str = "index.m3u8") -> str:
    return f"/api/live/{camera_id}/hls/{name}"


def hls_actor(iris: Any) -> Any | None:
    try:
        return ray.get_actor(names.HLS_MANAGER, namespace=iris.settings.ray_namespace)
    except ValueError:
        return None


def sessions(iris: Any) -> dict[int, dict[str, Any]]:
    actor = hls_actor(iris)
    found = ray.get(actor.sessions.remote(), timeout=30) if actor is not None else []
    return {s["camera_id"]: s for s in found}


def segment_uris(playlist: str) -> list[str]:
    return [line for line in playlist.splitlines() if line and not line.startswith("#")]


def fetch_first_segment(client: httpx.Client, playlist: httpx.Response, into: Path) -> Path:
    """Resolve the playlist's first URI the way a player does (relative) and save the segment."""
    uris = segment_uris(playlist.text)
    assert uris and all(SEGMENT_LINE.fullmatch(uri) for uri in uris), playlist.text
    segment = client.get(playlist.url.join(uris[0]))
    assert segment.status_code == 200, segment.text
    assert segment.headers["content-type"] == "video/mp2t"
    assert segment.headers["x-accel-buffering"] == "no"
    into.write_bytes(segment.content)
    return into


def stream_kinds(path: Path) -> set[tuple[str, str]]:
    return {(s["codec_type"], s["codec_name"]) for s in probe(path)["streams"]}


@pytest.fixture(autouse=True)
def no_session_outlives_a_test(iris: Any) -> Iterator[None]:
    yield
    actor = hls_actor(iris)
    if actor is not None:
        ray.get(actor.stop_all.remote(), timeout=30)


@pytest.fixture(scope="module")
def clip(iris: Any) -> Path:
    """A clip in the local sources folder: the only place file cameras may play from."""
    return make_clip(iris.settings.local_sources_path / "hls-cam.mp4", **CLIP)


@pytest.fixture(scope="module")
def camera(iris: Any, clip: Path) -> Iterator[int]:
    """An enabled camera playing a local H.264+AAC file as a live source."""
    with iris.client() as client:
        created = client.post("/api/cameras", json={"name": "HLS file", "rtsp_url": f"file://{clip}",
                                                    "enabled": True, "detect_interval": 60})
        assert created.status_code == 201, created.text
        camera_id = created.json()["id"]
        yield camera_id
        client.delete(f"/api/cameras/{camera_id}")


@pytest.fixture
def db_cameras(iris: Any, clip: Path) -> Iterator[Callable[[int], list[int]]]:
    """Enabled camera rows written straight to the DB: HLS needs no camera worker, so none runs."""
    engine = make_engine(iris.settings.resolved_database_url)
    made: list[int] = []

    def create(count: int) -> list[int]:
        with Session(engine, expire_on_commit=False) as session:
            rows = [Camera(name=f"HLS extra {i}", rtsp_url=f"file://{clip}", enabled=True)
                    for i in range(count)]
            session.add_all(rows)
            session.commit()
            made.extend(row.id for row in rows if row.id is not None)
        return made[-count:]

    yield create
    with iris.client() as client:
        for camera_id in made:
            client.delete(f"/api/cameras/{camera_id}")
    engine.dispose()


def test_playlist_and_segments_with_sound_via_the_api(iris: Any, camera: int,
                                                      tmp_path: Path) -> None:
    with iris.client() as client:
        started = time.monotonic()
        playlist = client.get(hls_url(camera))
        first_playlist_s = time.monotonic() - started
        assert playlist.status_code == 200, playlist.text
        assert playlist.headers["content-type"] == "application/vnd.apple.mpegurl"
        assert playlist.headers["cache-control"] == "no-store"
        assert playlist.text.startswith("#EXTM3U") and "#EXT-X-ENDLIST" not in playlist.text
        print(f"time to first playlist via the API (incl. actor start): {first_playlist_s:.2f} s")

        segment = fetch_first_segment(client, playlist, tmp_path / "first.ts")
        assert stream_kinds(segment) == {("video", "h264"), ("audio", "aac")}
        assert (iris.settings.root / "hls" / str(camera) / "index.m3u8").is_file()

        again = client.get(hls_url(camera))  # idempotent: the same session keeps running
        assert again.status_code == 200
        assert list(sessions(iris)) == [camera]


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("seg1.ts", {400}),
        ("index.m3u8x", {400}),
        ("remux.log", {400}),  # lives in the session folder; must never be served
        ("seg00000.ts.tmp", {400}),
        ("seg０００００.ts", {400}),  # fullwidth digits match \d but not [0-9]
        ("%2E%2E", {400}),
        ("..%2F..%2Firis.db", {400, 404}),
        ("..%2Fx", {400, 404}),
        ("seg99999.ts", {404}),
    ],
)
def test_segment_names_are_validated(iris: Any, camera: int, name: str,
                                     expected: set[int]) -> None:
    with iris.client() as client:
        assert client.get(hls_url(camera)).status_code == 200
        raw = f"{iris.base_url}{hls_url(camera)}".replace("index.m3u8", name)
        response = client.get(httpx.URL(raw))
    assert response.status_code in expected, (name, response.status_code, response.text)


def test_unknown_and_disabled_cameras(iris: Any, clip: Path) -> None:
    with iris.client() as client:
        assert client.get(hls_url(999_999)).status_code == 404
        assert client.post(hls_url(999_999, "close")).status_code == 404
        created = client.post("/api/cameras", json={"name": "Off", "rtsp_url": f"file://{clip}",
                                                    "enabled": False})
        camera_id = created.json()["id"]
        try:
            refused = client.get(hls_url(camera_id))
            assert refused.status_code == 409
            assert refused.json()["detail"] == "Camera is disabled."
            assert camera_id not in sessions(iris)
        finally:
            client.delete(f"/api/cameras/{camera_id}")


def viewer(number: int) -> dict[str, str]:
    """Headers of one SSO user through the gateway (each user has a per-principal cap)."""
    return {"X-Email": f"viewer{number}@example.org", "X-Iris-Gateway": GATEWAY_SECRET}


def test_capacity_answers_503_until_a_session_closes(
    iris: Any, camera: int, db_cameras: Callable[[int], list[int]]
) -> None:
    capacity = iris.settings.hls_max_sessions
    extra = db_cameras(capacity)
    with iris.client() as client:
        for number, camera_id in enumerate([camera, *extra[:-1]]):
            response = client.get(hls_url(camera_id), headers=viewer(number))
            assert response.status_code == 200, (camera_id, response.text)
        assert len(sessions(iris)) == capacity

        refused = client.get(hls_url(extra[-1]), headers=viewer(capacity))
        assert refused.status_code == 503
        assert f"All {capacity} HLS live sessions are in use" in refused.json()["detail"]
        assert not (iris.settings.root / "hls" / str(extra[-1])).exists()

        assert client.get(hls_url(camera)).status_code == 200  # a running one still plays
        assert client.post(hls_url(extra[0], "close"), headers=viewer(1)).json() == {
            "closed": True}
        assert client.get(hls_url(extra[-1]), headers=viewer(capacity)).status_code == 200


def test_close_is_idempotent_and_removes_the_folder(iris: Any, camera: int) -> None:
    folder = iris.settings.root / "hls" / str(camera)
    with iris.client() as client:
        assert client.get(hls_url(camera)).status_code == 200
        pid = sessions(iris)[camera]["pid"]
        assert folder.is_dir()

        closed = client.post(hls_url(camera, "close"))
        assert closed.status_code == 200 and closed.json() == {"closed": True}
        assert not folder.exists()
        assert camera not in sessions(iris)
        assert not Path(f"/proc/{pid}/cmdline").exists() or b"hls_remux" not in Path(
            f"/proc/{pid}/cmdline").read_bytes()
        assert client.post(hls_url(camera, "close")).json() == {"closed": False}
        assert client.get(hls_url(camera, "close")).json() == {"closed": False}  # beacon form

        started = time.monotonic()
        assert client.get(hls_url(camera)).status_code == 200  # and it starts again
        print(f"time to first playlist, warm actor: {time.monotonic() - started:.2f} s")
        assert client.get(hls_url(camera, "close")).json() == {"closed": True}


def test_disabling_a_camera_stops_its_session(iris: Any, clip: Path) -> None:
    with iris.client() as client:
        created = client.post("/api/cameras", json={"name": "Soon off", "enabled": True,
                                                    "rtsp_url": f"file://{clip}",
                                                    "detect_interval": 60})
        camera_id = created.json()["id"]
        try:
            assert client.get(hls_url(camera_id)).status_code == 200
            assert client.put(f"/api/cameras/{camera_id}",
                              json={"enabled": False}).status_code == 200
            assert camera_id not in sessions(iris)
            assert not (iris.settings.root / "hls" / str(camera_id)).exists()
            assert client.get(hls_url(camera_id)).status_code == 409
        finally:
            client.delete(f"/api/cameras/{camera_id}")


def test_chromium_plays_the_live_stream_with_sound(iris: Any, camera: int,
                                                   artifacts_dir: Path) -> None:
    page_url = f"{iris.base_url}/__test__/hls.html"
    html = (f'<!doctype html><video id="v" muted autoplay playsinline '
            f'src="{hls_url(camera)}"></video>')
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page()
            page.set_extra_http_headers(iris.headers)  # the player's requests carry the key
            page.route(page_url, lambda route: route.fulfill(body=html,
                                                             content_type="text/html"))
            page.goto(page_url)
            support = page.evaluate("""() => { const v = document.createElement('video');
                return { hls: v.canPlayType('application/vnd.apple.mpegurl'),
                         h264: v.canPlayType('video/mp4; codecs="avc1.42E01E"'),
                         aac: v.canPlayType('audio/mp4; codecs="mp4a.40.2"') }; }""")
            print(f"Chromium canPlayType: {support}")
            assert support["hls"] in ("maybe", "probably"), support

            page.wait_for_function("document.getElementById('v').readyState >= 2",
                                   timeout=30_000)
            start = page.evaluate("document.getElementById('v').currentTime")
            page.wait_for_function(f"document.getElementById('v').currentTime > {start + 2}",
                                   timeout=30_000)
            # Sound: the AAC track reaches the decoder (muted only so autoplay is allowed).
            page.wait_for_function("document.getElementById('v').webkitAudioDecodedByteCount > 0",
                                   timeout=10_000)
            state = page.evaluate("""(() => { const v = document.getElementById('v');
                return { error: v.error && v.error.message, paused: v.paused,
                         width: v.videoWidth }; })()""")
            assert state == {"error": None, "paused": False, "width": CLIP["size"][0]}
            page.screenshot(path=str(artifacts_dir / "hls_live.png"))
        finally:
            browser.close()


@pytest.mark.skipif(not gstreamer_available(), reason="GStreamer RTSP server missing")
def test_rtsp_camera_session_survives_a_source_drop(iris: Any, tmp_path: Path) -> None:
    source = make_clip(tmp_path / "rtsp.mp4", **CLIP)
    with RtspServer(to_annexb(source), audio_mp4=source, fps=CLIP["fps"],
                    log_path=tmp_path / "rtsp.log") as rtsp, iris.client() as client:
        password = "hls-pw-5e1b09"  # the test camera asks for none; the URL carries one
        url = rtsp.url.replace("rtsp://", f"rtsp://viewer:{password}@")
        created = client.post("/api/cameras", json={"name": "HLS rtsp", "rtsp_url": url,
                                                    "enabled": True, "detect_interval": 60})
        camera_id = created.json()["id"]
        try:
            playlist = client.get(hls_url(camera_id))
            assert playlist.status_code == 200, playlist.text
            segment = fetch_first_segment(client, playlist, tmp_path / "rtsp.ts")
            assert stream_kinds(segment) == {("video", "h264"), ("audio", "aac")}
            pid = sessions(iris)[camera_id]["pid"]
            command_line = Path(f"/proc/{pid}/cmdline").read_bytes()
            assert b"hls_remux" in command_line and password.encode() not in command_line

            rtsp.kill()  # the camera drops off the network
            dropped = wait_until(lambda: sessions(iris)[camera_id]["last_error"], 15,
                                 "the remux to notice the dropped source")
            print(f"source drop noticed: {dropped}")
            rtsp.start()
            started = time.monotonic()
            again = wait_until(lambda: (r := client.get(hls_url(camera_id))).status_code == 200
                               and r, 30, "the session to come back")
            print(f"playlist back {time.monotonic() - started:.2f} s after the camera returned")
            state = sessions(iris)[camera_id]
            assert state["restarts"] >= 1 and state["pid"] != pid
            segment = fetch_first_segment(client, again, tmp_path / "again.ts")
            assert stream_kinds(segment) == {("video", "h264"), ("audio", "aac")}
        finally:
            client.delete(f"/api/cameras/{camera_id}")
