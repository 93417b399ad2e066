"""Live fragmented MP4 end to end: real RTSP clock cameras, real Ray and Serve, ffprobe, Chromium.

The camera's own H.264/H.265 (and its sound) reach the viewer remuxed, never re-encoded; one
camera-side producer feeds every viewer; a stream ends when the camera's stream does.
"""

from __future__ import annotations

import json
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.sync_api import sync_playwright

from iris.live.boxes import iter_boxes, starts_with_sync_sample, track_ids
from tests.integration.conftest import IrisInstance, extra_instance
from tests.support.clock_camera import ClockCamera
from tests.support.media import make_clip, to_annexb
from tests.support.mse_player import MsePlayer, latency, launch
from tests.support.rtsp import RtspServer, gstreamer_available
from tests.support.stalled import drain, stalled_request
from tests.support.wait import wait_for

pytestmark = pytest.mark.skipif(not gstreamer_available(), reason="GStreamer RTSP missing")

WIDTH, HEIGHT, FPS = 640, 360, 15
WRITE_TIMEOUT_S = 2.0


@pytest.fixture(scope="module")
def cameras(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, ClockCamera]]:
    folder = tmp_path_factory.mktemp("clock")
    running = {}
    for name, codec, audio in (("h264", "h264", "aac"), ("h265", "h265", "none"),
                               ("pcma", "h264", "pcma")):
        running[name] = ClockCamera(width=WIDTH, height=HEIGHT, fps=FPS, codec=codec,
                                    audio=audio, log_path=folder / f"{name}.log").start()
    yield running
    for camera in running.values():
        camera.stop()


def add_camera(iris: IrisInstance, name: str, url: str, **extra: object) -> int:
    with iris.client() as client:
        created = client.post("/api/cameras", json={"name": name, "rtsp_url": url,
                                                    "detect_interval": 60, **extra})
    assert created.status_code == 201, created.text
    return int(created.json()["id"])


def online(iris: IrisInstance, camera_id: int) -> bool:
    with iris.client() as client:
        return bool(client.get(f"/api/cameras/{camera_id}/status").json()["status"] == "online")


@pytest.fixture(scope="module")
def live(iris: IrisInstance, cameras: dict[str, ClockCamera]) -> Iterator[dict[str, int]]:
    """One enabled Iris camera per clock camera, online."""
    ids = {name: add_camera(iris, f"MSE {name}", camera.url) for name, camera in cameras.items()}
    for camera_id in ids.values():
        wait_for(lambda camera_id=camera_id: online(iris, camera_id), 60, what="camera online")
    yield ids
    with iris.client() as client:
        for camera_id in ids.values():
            client.delete(f"/api/cameras/{camera_id}")


def capture(iris: IrisInstance, camera_id: int, seconds: float) -> tuple[httpx.Headers, bytes]:
    """`seconds` of the camera's MSE stream as one client receives it."""
    data = bytearray()
    with iris.client() as client, client.stream("GET", f"/api/live/{camera_id}/mse") as response:
        assert response.status_code == 200, response.read()
        deadline = time.monotonic() + seconds
        for chunk in response.iter_bytes():
            data += chunk
            if time.monotonic() >= deadline:
                break
    return response.headers, bytes(data)


def probe_packets(path: Path) -> tuple[list[dict[str, Any]], dict[str, list[dict[str, Any]]]]:
    out = subprocess.run(["ffprobe", "-v", "error", "-show_streams", "-show_packets", "-of",
                          "json", str(path)], check=True, capture_output=True, text=True)
    data = json.loads(out.stdout)
    kinds = {s["index"]: s["codec_type"] for s in data["streams"]}
    packets: dict[str, list[dict[str, Any]]] = {"video": [], "audio": []}
    for packet in data["packets"]:
        packets[kinds[packet["stream_index"]]].append(packet)
    return data["streams"], packets


def check_stream(data: bytes, path: Path, video_codec: str,
                 audio_codec: str | None) -> dict[str, list[dict[str, Any]]]:
    """ffprobe reads it as the camera's video (and sound), in order, from a keyframe."""
    boxes = [box.type for box in iter_boxes(data)]
    assert boxes[:2] == [b"ftyp", b"moov"] and b"moof" in boxes, boxes[:6]
    init_end = next(box.end for box in iter_boxes(data) if box.type == b"moov")
    first_moof = next(box for box in iter_boxes(data) if box.type == b"moof")
    video_track = track_ids(data[:init_end], b"vide")[0]
    assert starts_with_sync_sample(data[first_moof.start - 8:first_moof.end], video_track)

    path.write_bytes(data)
    streams, packets = probe_packets(path)
    video = [s for s in streams if s["codec_type"] == "video"]
    assert [(s["codec_name"], s["width"], s["height"]) for s in video] == [
        (video_codec, WIDTH, HEIGHT)]
    audio = [s["codec_name"] for s in streams if s["codec_type"] == "audio"]
    assert audio == ([audio_codec] if audio_codec else [])
    assert packets["video"][0]["flags"].startswith("K")
    for kind, found in packets.items():
        dts = [int(p["dts"]) for p in found]
        assert dts == sorted(set(dts)), f"{kind} timestamps do not increase"
    assert len(packets["video"]) >= 3 * FPS  # ≥ 3 s of frames in a 4 s capture
    if audio_codec:
        assert packets["audio"], "no sound"
    return packets


def test_the_stream_is_the_cameras_h264_with_its_aac(iris: IrisInstance, live: dict[str, int],
                                                    tmp_path: Path) -> None:
    camera = live["h264"]
    with iris.client() as client:
        info = client.get(f"/api/live/{camera}/mse/info")
    assert info.status_code == 200, info.text
    body = info.json()
    assert body["codecs"].startswith("avc1.42") and body["codecs"].endswith(",mp4a.40.2")
    assert body["mime"] == f'video/mp4; codecs="{body["codecs"]}"'
    assert (body["width"], body["height"], body["audio"]) == (WIDTH, HEIGHT, True)
    assert body["stream"] == f"/api/live/{camera}/mse"

    headers, data = capture(iris, camera, 4.0)
    assert headers["content-type"] == body["mime"]
    assert headers["x-iris-codecs"] == body["codecs"]
    assert headers["cache-control"] == "no-store"
    check_stream(data, tmp_path / "h264.mp4", "h264", "aac")


def test_an_h265_camera_is_served_as_it_sends_it(iris: IrisInstance, live: dict[str, int],
                                                 tmp_path: Path) -> None:
    headers, data = capture(iris, live["h265"], 4.0)
    assert headers["x-iris-codecs"].startswith("hvc1.1.")
    check_stream(data, tmp_path / "h265.mp4", "hevc", None)


def test_a_g711_camera_is_heard_as_aac(iris: IrisInstance, live: dict[str, int],
                                       tmp_path: Path) -> None:
    headers, data = capture(iris, live["pcma"], 4.0)
    assert headers["x-iris-codecs"].endswith(",mp4a.40.2")
    check_stream(data, tmp_path / "pcma.mp4", "h264", "aac")


def test_missing_disabled_and_offline_cameras_are_refused(iris: IrisInstance) -> None:
    disabled = add_camera(iris, "MSE off", "rtsp://127.0.0.1:9/x", enabled=False)
    offline = add_camera(iris, "MSE unreachable", "rtsp://127.0.0.1:9/x")
    try:
        with iris.client() as client:
            for path in ("mse", "mse/info", "detections"):
                missing = client.get(f"/api/live/987654/{path}")
                assert missing.status_code == 404 and missing.json() == {
                    "detail": "Camera not found."}
                refused = client.get(f"/api/live/{disabled}/{path}")
                assert refused.status_code == 409, refused.text
                assert "not running" in refused.json()["detail"]
            for path in ("mse", "mse/info"):
                down = client.get(f"/api/live/{offline}/{path}")
                assert down.status_code == 503, down.text
                assert down.headers["retry-after"] == "5"
                assert "no video" in down.json()["detail"]
        with httpx.Client(base_url=iris.base_url) as anonymous:
            assert anonymous.get(f"/api/live/{disabled}/mse").status_code == 401
    finally:
        with iris.client() as client:
            client.delete(f"/api/cameras/{disabled}")
            client.delete(f"/api/cameras/{offline}")


def test_chromium_plays_it_with_sound_near_live(iris: IrisInstance, live: dict[str, int],
                                               artifacts_dir: Path) -> None:
    camera = live["h264"]
    with iris.client() as client:
        info = client.get(f"/api/live/{camera}/mse/info").json()
    with sync_playwright() as playwright:
        browser = launch(playwright)
        try:
            player = MsePlayer.open(browser, iris.base_url, iris.headers)
            assert player.supported(info["mime"]), info["mime"]
            player.play(info["stream"], info["mime"])
            player.page.wait_for_function("window.state().readyState >= 2", timeout=30_000)
            start = player.state()["currentTime"]
            player.page.wait_for_function(f"window.state().currentTime > {start + 3}",
                                          timeout=30_000)
            state = player.state()
            assert state["error"] is None and not state["ended"], state
            assert (state["width"], state["height"]) == (WIDTH, HEIGHT)
            assert state["audioBytes"] > 0, state  # the AAC track is decoded too
            measured = latency(player, samples=12)
            player.page.screenshot(path=str(artifacts_dir / "mse-player.png"))
        finally:
            browser.close()
    print(f"glass-to-glass latency in Chromium: median {measured.median:.3f} s, "
          f"p90 {measured.p90:.3f} s over {len(measured.samples)} frames")
    # What it shows is now, not a replay: well within the fragment and GOP bounds.
    assert measured.median < 3.0, measured.samples


@pytest.fixture
def own_camera(iris: IrisInstance, tmp_path: Path) -> Iterator[tuple[ClockCamera, int]]:
    """A clock camera of the test's own (it gets restarted) and its Iris camera, online."""
    camera = ClockCamera(width=WIDTH, height=HEIGHT, fps=FPS, audio="aac",
                         log_path=tmp_path / "own.log").start()
    camera_id = add_camera(iris, "MSE restarts", camera.url)
    try:
        wait_for(lambda: online(iris, camera_id), 60, what="camera online")
        yield camera, camera_id
    finally:
        with iris.client() as client:
            client.delete(f"/api/cameras/{camera_id}")
        camera.stop()


def patient_client(iris: IrisInstance) -> httpx.Client:
    """A client whose reads outlast a camera's reconnect."""
    return httpx.Client(base_url=iris.base_url, headers=iris.headers, timeout=60)


def read_until_end(chunks: Iterator[bytes]) -> bytes:
    """The rest of a stream, up to the server ending it (httpx's read timeout bounds a wait)."""
    data = bytearray()
    for chunk in chunks:
        data += chunk
    return bytes(data)


def read_until_fragment(chunks: Iterator[bytes]) -> bytes:
    """The stream up to its first fragment (the init segment may come alone, a moment before)."""
    data = bytearray()
    for chunk in chunks:
        data += chunk
        if b"moof" in data:
            break
    return bytes(data)


def test_a_camera_restart_ends_the_stream_and_the_next_one_plays(
        iris: IrisInstance, own_camera: tuple[ClockCamera, int], tmp_path: Path) -> None:
    camera, camera_id = own_camera
    with patient_client(iris) as client, \
            client.stream("GET", f"/api/live/{camera_id}/mse") as response:
        assert response.status_code == 200
        chunks = response.iter_bytes()
        head = read_until_fragment(chunks)
        assert head[4:8] == b"ftyp"
        assert b"moof" in head  # it plays before the restart
        camera.stop()  # the camera reboots: its RTSP stream ends, the worker reconnects
        camera.start()
        read_until_end(chunks)  # the old epoch ends: the response completes

    wait_for(lambda: online(iris, camera_id), 60, what="camera back online")
    _, data = capture(iris, camera_id, 4.0)  # a reconnecting player gets the new epoch
    check_stream(data, tmp_path / "after-restart.mp4", "h264", "aac")

    with patient_client(iris) as client, \
            client.stream("GET", f"/api/live/{camera_id}/mse") as response:
        chunks = response.iter_bytes()
        assert next(chunks)[4:8] == b"ftyp"
        assert client.put(f"/api/cameras/{camera_id}", json={"enabled": False}).status_code == 200
        read_until_end(chunks)  # disabled: the worker stops, so does the stream
        assert client.get(f"/api/live/{camera_id}/mse").status_code == 409


@pytest.fixture(scope="module")
def capped(iris: IrisInstance, tmp_path_factory: pytest.TempPathFactory
           ) -> Iterator[IrisInstance]:
    """An instance where each user holds one live stream, and 2 s of not reading is too long."""
    with extra_instance(iris, "msecapped", data_dir=tmp_path_factory.mktemp("capped") / "data",
                        live_max_viewers_per_principal=1,
                        live_write_timeout_seconds=WRITE_TIMEOUT_S) as instance:
        yield instance


def sso(instance: IrisInstance, email: str) -> dict[str, str]:
    secret = instance.settings.sso_gateway_secret
    return {"X-Email": email, **({"X-Iris-Gateway": secret} if secret else {})}


def admitted(instance: IrisInstance, camera_id: int, headers: dict[str, str]) -> bool:
    with instance.client() as client, \
            client.stream("GET", f"/api/live/{camera_id}/mse", headers=headers) as response:
        return response.status_code == 200


def test_a_viewer_that_stops_reading_is_closed_and_slows_no_one(
        capped: IrisInstance, tmp_path: Path) -> None:
    # A busy 720p25 scene: enough bytes a second that the kernel's send buffer for the
    # stalled socket (up to tcp_wmem's 4 MiB) fills within seconds; only then do the proxy's
    # writes block. Until then the bytes wait in the kernel, not in Iris.
    clip = make_clip(tmp_path / "busy.mp4", seconds=6, fps=25, size=(1280, 720))
    source = RtspServer(to_annexb(clip), audio_mp4=clip, fps=25,
                        log_path=tmp_path / "busy.log").start()
    camera = add_camera(capped, "MSE stalled", source.url)
    carol = sso(capped, "carol@example.com")
    try:
        wait_for(lambda: online(capped, camera), 60, what="camera online")
        sock, head = stalled_request(f"{capped.base_url}/api/live/{camera}/mse", carol)
        try:
            assert head.startswith(b"HTTP/1.1 200"), head
            assert not admitted(capped, camera, carol)  # her one stream is open...
            # ...while a viewer who reads gets the whole stream beside it.
            _, data = capture(capped, camera, 8.0)
            fragments = sum(1 for box in iter_boxes(data) if box.type == b"moof")
            assert fragments >= 1.5 * 6, fragments  # about two a second
            # The proxy gives up on her: the ingress's stream ends and her slot comes back.
            wait_for(lambda: admitted(capped, camera, carol), 120, interval=0.5,
                     what="the stalled stream closed")
            left = drain(sock, 30)  # what was buffered for her, then the end
            assert left < 8 << 20, left  # the kernel's buffers: nothing piled up in Iris
        finally:
            sock.close()
    finally:
        with capped.client() as client:
            client.delete(f"/api/cameras/{camera}")
        source.stop()
