"""The web app in a real Chromium against a running Iris and a real RTSP camera.

Every view renders without console errors; a camera added through the form streams live
frames; a clip recorded from the Live view and one seeded through the API play and seek;
media keep working with a bearer key, through the service worker and without it.
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import pytest
from playwright.sync_api import Browser, FilePayload, expect
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from iris.db.engine import make_engine
from iris.db.tables import FaceSample, Identity, Sighting
from iris.db.types import vector_to_blob
from tests.integration.conftest import API_KEY
from tests.integration.spa_helpers import (
    CHROMIUM,
    AppPage,
    frames_differ,
    open_app,
    video_state,
)
from tests.support.media import make_clip, to_annexb
from tests.support.rtsp import RtspServer, gstreamer_available
from tests.support.wait import wait_for

pytestmark = pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="Debian chromium missing")

FRAME = (512, 288)  # not the 640x360 "no signal" placeholder: a frame this wide is the camera's
CAMERA_NAME = "Porch (from the form)"
VIEWS = ["live", "cameras", "events", "identities", "people", "face-groups", "analytics",
         "system"]
RECORD_SECONDS = 4


@pytest.fixture(scope="module")
def shots(artifacts_dir: Path) -> Path:
    return artifacts_dir / "screenshots"


@pytest.fixture
def app(iris: Any, browser: Browser) -> Iterator[AppPage]:
    """A tab signed in with the bearer key through the login prompt."""
    tab = open_app(browser, iris.base_url, API_KEY)
    try:
        yield tab
    finally:
        tab.context.close()


@pytest.fixture(scope="module")
def rtsp(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RtspServer]:
    if not gstreamer_available():
        pytest.skip("GStreamer RTSP server missing")
    folder = tmp_path_factory.mktemp("spa-rtsp")
    clip = make_clip(folder / "cam.mp4", seconds=8, fps=25, size=FRAME, audio=True)
    server = RtspServer(to_annexb(clip), audio_mp4=clip, fps=25, log_path=folder / "rtsp.log")
    server.start()
    yield server
    server.stop()


@pytest.fixture(scope="module")
def ui_camera(iris: Any, browser: Browser, rtsp: RtspServer,
              shots: Path) -> Iterator[int]:
    """A camera added through the form, with a tuning field and a trigger class changed."""
    tab = open_app(browser, iris.base_url, API_KEY)
    page = tab.page
    try:
        tab.open("cameras/new")
        tab.screenshot(shots, "camera-form")
        page.get_by_label("Name").fill(CAMERA_NAME)
        page.get_by_label("Stream URL").fill(rtsp.url)
        page.get_by_label("Seconds between detections").fill("1.5")
        page.locator(".chip-toggle", has_text=re.compile(r"^car$")).click()
        page.get_by_label("Pre-roll (s)").press("Enter")  # Enter submits the form
        page.wait_for_selector(f"tr:has-text('{CAMERA_NAME}')", timeout=30_000)
        assert page.url.endswith("#/cameras")
        assert tab.take_errors() == []
    finally:
        tab.context.close()
    with iris.client() as client:
        camera = next(c for c in client.get("/api/cameras").json() if c["name"] == CAMERA_NAME)
        assert camera["detect_interval"] == 1.5
        assert camera["trigger_classes"] == "person,car"
        assert camera["enabled"] is True
        yield camera["id"]
        client.delete(f"/api/cameras/{camera['id']}")


def live_frame_js(selector: str) -> str:
    return f"""() => {{ const img = document.querySelector("{selector}");
        return img && img.complete && img.naturalWidth === {FRAME[0]}; }}"""


def live_video_js(selector: str) -> str:
    """The MSE player in `selector` plays the camera's own frames."""
    video = f"{selector} .live-player[data-mode=mse] video"
    return f"""() => {{ const v = document.querySelector("{video}");
        return v && v.videoWidth === {FRAME[0]} && v.currentTime > 1 && !v.paused; }}"""


NO_MSE = "delete window.MediaSource; delete window.ManagedMediaSource;"


def test_camera_from_the_form_shows_live_frames(app: AppPage, ui_camera: int,
                                                shots: Path) -> None:
    page = app.page
    streams: list[Any] = []
    page.on("response", lambda r: streams.append(r) if r.url.endswith("/mse") else None)
    app.open("live")
    tile = f".tile[data-camera='{ui_camera}']"
    page.wait_for_function(live_video_js(tile), timeout=60_000)  # few cameras: MSE tiles
    frames_differ(page, f"{tile} video")
    assert streams and all(r.status == 200 for r in streams)
    page.wait_for_selector(f"{tile} .badge-online", timeout=30_000)
    app.screenshot(shots, "live")

    page.click(tile)  # focus: full rate, sound, boxes
    page.wait_for_function(live_video_js(".stage"), timeout=30_000)
    frames_differ(page, ".stage video")
    app.screenshot(shots, "live-focus")
    assert app.take_errors() == []

    # Where MSE cannot play, the tiles and the focused view fall back to MJPEG: an <img>
    # cannot send the bearer key, so the service worker adds it.
    streams.clear()
    page.on("response", lambda r: streams.append(r) if "/stream" in r.url else None)
    page.add_init_script(NO_MSE)
    page.reload()  # the script runs on the next document, not this one
    app.open("live")
    page.wait_for_function(live_frame_js(f"{tile} img"), timeout=60_000)
    assert f"/api/live/{ui_camera}/stream?fps=2" in (page.get_attribute(f"{tile} img", "src") or "")
    frames_differ(page, f"{tile} img")
    page.click(tile)
    page.wait_for_function(live_frame_js(".stage img"), timeout=30_000)
    assert (page.get_attribute(".stage img", "src") or "").endswith(f"/api/live/{ui_camera}/stream")
    streams = [r for r in streams if "/stream" in r.url]
    assert streams and all(r.from_service_worker and r.status == 200 for r in streams)
    assert app.take_errors() == []


def test_live_view_records_a_clip_and_plays_live_sound(app: AppPage, ui_camera: int,
                                                      iris: Any) -> None:
    page = app.page
    app.open(f"live/{ui_camera}")
    page.wait_for_function(live_video_js(".stage"), timeout=60_000)
    assert page.evaluate("() => document.querySelector('.stage video').muted")  # until asked
    page.get_by_role("button", name="Unmute").click()
    page.get_by_role("button", name="Mute").wait_for()
    assert not page.evaluate("() => document.querySelector('.stage video').muted")

    page.get_by_role("button", name="Record").click()
    expect(page.locator(".btn-record")).to_have_text(
        re.compile(rf"Stop · 00:0[{RECORD_SECONDS}-9]"), timeout=30_000)
    page.locator(".btn-record").click()
    page.wait_for_selector(".record-result .clip-link", timeout=90_000)
    page.click(".record-result .clip-link")
    page.wait_for_selector("dialog.player[open]")
    page.wait_for_function("() => document.querySelector('.player-video').currentTime > 1",
                           timeout=30_000)
    assert video_state(page, ".player-video")["error"] is None
    page.keyboard.press("Escape")  # Esc closes the player
    expect(page.locator("dialog[open]")).to_have_count(0)

    # Without MSE the view plays MJPEG, and sound comes from an HLS session.
    page.add_init_script(NO_MSE)
    page.reload()  # the focused view again, in a document without MSE
    app.open(f"live/{ui_camera}")
    page.wait_for_function(live_frame_js(".stage img"), timeout=60_000)
    page.get_by_role("button", name="Live with sound").click()
    page.wait_for_function(
        "() => { const v = document.querySelector('.stage-video'); "
        "return v && v.readyState >= 2 && v.currentTime > 1; }", timeout=60_000)
    state = video_state(page, ".stage-video")
    assert state["error"] is None and not state["paused"], state
    with page.expect_request(lambda r: r.url.endswith(f"/api/live/{ui_camera}/hls/close")
                             and r.method == "POST"):
        page.get_by_role("button", name="Silent live").click()
    page.wait_for_function(live_frame_js(".stage img"), timeout=30_000)
    assert app.take_errors() == []


@pytest.fixture
def recorded_event(iris: Any, ui_camera: int) -> int:
    """A manual recording made through the API: start, let it run, stop."""
    with iris.client() as client:
        wait_for(lambda: client.get(f"/api/cameras/{ui_camera}/status").json()["status"]
                 == "online", 60, what="camera online")
        started = client.post(f"/api/live/{ui_camera}/record/start")
        assert started.status_code == 200, started.text
        time.sleep(RECORD_SECONDS)  # the length of the recording, not a synchronisation
        stopped = client.post(f"/api/live/{ui_camera}/record/stop",
                              json={"started_at": started.json()["started_at"]}, timeout=90)
        assert stopped.status_code == 200, stopped.text
        return int(stopped.json()["event_id"])


def test_event_clip_plays_seeks_and_deletes(app: AppPage, iris: Any, ui_camera: int,
                                            recorded_event: int, shots: Path) -> None:
    page = app.page
    clips: list[Any] = []
    page.on("response", lambda r: clips.append(r) if r.url.endswith("/clip") else None)
    app.open(f"events?camera_id={ui_camera}")
    card = page.locator(f".event-card[data-event='{recorded_event}']")
    expect(card).to_be_visible(timeout=30_000)
    thumb = f".event-card[data-event='{recorded_event}'] img"
    page.wait_for_function(f"""() => {{ const i = document.querySelector("{thumb}");
        return i && i.complete && i.naturalWidth > 0; }}""", timeout=30_000)
    expect(page.locator(".pager")).to_contain_text("of")
    app.screenshot(shots, "events")

    card.locator(".thumb").click()
    page.wait_for_selector("dialog.player[open]")
    page.wait_for_function("() => document.querySelector('.player-video').readyState >= 1",
                           timeout=30_000)
    state = video_state(page, ".player-video")
    assert state["duration"] >= RECORD_SECONDS - 0.5, state
    assert state["seekable"] == pytest.approx(state["duration"], abs=0.2)  # Range is served
    target = round(state["duration"] - 1.5, 2)
    page.evaluate(f"(() => {{ const v = document.querySelector('.player-video'); "
                  f"v.currentTime = {target}; return v.play(); }})()")
    page.wait_for_function(
        f"() => {{ const v = document.querySelector('.player-video'); return !v.seeking && "
        f"v.currentTime >= {target} && v.readyState >= 2; }}", timeout=30_000)
    state = video_state(page, ".player-video")
    assert state["error"] is None and state["time"] < target + 1.5, state
    # Range requests went through the service worker (which added the key) and came back 206.
    assert clips and all(r.from_service_worker for r in clips)
    assert any(r.status == 206 for r in clips), [(r.status, r.url) for r in clips]
    app.screenshot(shots, "event-player")
    page.get_by_role("button", name="Close", exact=True).last.click()
    expect(page.locator("dialog[open]")).to_have_count(0)

    card.get_by_label(f"Select event {recorded_event}").check()
    page.get_by_role("button", name="Delete selected").click()
    expect(page.locator("dialog[open]")).to_contain_text("Delete 1 event?")
    page.keyboard.press("Enter")  # the focused confirm button
    expect(card).to_have_count(0, timeout=15_000)
    with iris.client() as client:
        assert client.get(f"/api/events/{recorded_event}").status_code == 404
    assert app.take_errors() == []


def test_every_view_loads_without_console_errors(app: AppPage, iris: Any, ui_camera: int,
                                                 shots: Path) -> None:
    for view in VIEWS:
        app.open(view)
        if view == "live":  # the picture, not the black tile before the first frame
            app.page.wait_for_function(
                live_video_js(f".tile[data-camera='{ui_camera}']"), timeout=60_000)
        app.screenshot(shots, view)
        assert app.take_errors() == [], view

    # The edit form echoes the masked URL untouched; saving keeps the stored one.
    app.open(f"cameras/{ui_camera}")
    with iris.client() as client:
        before = client.get(f"/api/cameras/{ui_camera}").json()
    assert app.page.get_by_label("Stream URL").input_value() == before["rtsp_url"]
    app.page.get_by_role("button", name="Save changes").click()
    app.page.wait_for_selector(f"tr:has-text('{CAMERA_NAME}')", timeout=30_000)
    with iris.client() as client:
        assert client.get(f"/api/cameras/{ui_camera}").json()["rtsp_url"] == before["rtsp_url"]
    assert app.take_errors() == []


def test_live_media_without_a_service_worker(iris: Any, browser: Browser,
                                             ui_camera: int) -> None:
    """No service worker (a plain-HTTP origin): MJPEG frames (where MSE cannot play) are
    fetched by script with the key."""
    tab = open_app(browser, iris.base_url, API_KEY, service_workers="block")
    try:
        tab.page.add_init_script(NO_MSE)
        tab.page.reload()  # the script runs on the next document
        tab.open("live")
        tile = f".tile[data-camera='{ui_camera}'] img"
        tab.page.wait_for_function(live_frame_js(tile), timeout=60_000)
        assert (tab.page.get_attribute(tile, "src") or "").startswith("blob:")
        frames_differ(tab.page, tile)
        assert tab.take_errors() == []
    finally:
        tab.context.close()


def _offers(iris: Any, path: str) -> bool:
    with iris.client() as client:
        return client.get(path).status_code != 404


def test_enrolling_a_non_image_shows_the_api_error(app: AppPage, iris: Any) -> None:
    if not _offers(iris, "/api/people"):
        pytest.skip("/api/people is not built yet (the lead re-enables this test)")
    upload: FilePayload = {"name": "notes.txt", "mimeType": "text/plain",
                           "buffer": b"not a photo\n"}
    with iris.client() as client:
        person = client.post("/api/people", json={"name": "Enroll Test"}).json()
        expected = client.post(f"/api/people/{person['id']}/faces",
                               files={"file": ("notes.txt", upload["buffer"], "text/plain")})
    assert expected.status_code in (400, 415, 422, 503), expected.text
    detail = expected.json()["detail"]
    try:
        app.open(f"people/{person['id']}")
        app.page.set_input_files("input[type=file]", files=[upload])
        app.page.get_by_role("button", name="Enroll face").click()
        expect(app.page.locator(".enroll-form .form-error")).to_have_text(detail)
        expect(app.page.locator(".toast-error")).to_contain_text(detail)
    finally:
        with iris.client() as client:
            client.delete(f"/api/people/{person['id']}")


def test_enrolling_without_face_models_says_face_recognition_is_unavailable(
        app: AppPage, iris: Any) -> None:
    """This instance ships no face models: the 503's reason reaches the person's page."""
    photo: FilePayload = {"name": "face.jpg", "mimeType": "image/jpeg",
                          "buffer": cv2.imencode(".jpg", np.full((360, 480, 3), 90, np.uint8))[1]
                          .tobytes()}
    with iris.client() as client:
        person = client.post("/api/people", json={"name": "No Models"}).json()
    try:
        app.open(f"people/{person['id']}")
        app.page.set_input_files("input[type=file]", files=[photo])
        app.page.get_by_role("button", name="Enroll face").click()
        expect(app.page.locator(".enroll-form .form-error")).to_contain_text(
            "Face recognizer unavailable")
        expect(app.page.locator(".toast-error")).to_contain_text(
            "Face recognition is unavailable: Face recognizer unavailable")
        assert [e for e in app.take_errors() if "503" not in e] == []
    finally:
        with iris.client() as client:
            client.delete(f"/api/people/{person['id']}")


def seed_identities(iris: Any, camera_id: int) -> tuple[int, int]:
    """Two unnamed identities seen by one camera, two sightings each (written to the DB)."""
    now = datetime.now(UTC)
    ids = []
    with Session(make_engine(iris.settings.resolved_database_url)) as session:
        for n in range(2):
            identity = Identity(first_seen=now - timedelta(minutes=10 - n),
                                last_seen=now - timedelta(minutes=n), num_sightings=2,
                                total_seconds=8.0)
            session.add(identity)
            session.flush()
            assert identity.id is not None
            for k in range(2):
                ts = now - timedelta(minutes=10 - n - 3 * k)
                session.add(Sighting(identity_id=identity.id, camera_id=camera_id, ts=ts,
                                     end_ts=ts + timedelta(seconds=4)))
            ids.append(identity.id)
        session.commit()
    return ids[0], ids[1]


def test_identities_are_renamed_and_merged_from_the_ui(app: AppPage, iris: Any) -> None:
    if not _offers(iris, "/api/identities"):
        pytest.skip("/api/identities is not built yet (the lead re-enables this test)")
    with iris.client() as client:
        camera_id = client.post("/api/cameras", json={
            "name": "Lobby", "enabled": False, "rtsp_url": "rtsp://127.0.0.1:9/lobby"}).json()["id"]
    target, source = seed_identities(iris, camera_id)
    page = app.page
    try:
        app.open(f"identities/{target}")
        expect(page.locator(".timeline .mark")).to_have_count(2)
        page.get_by_label("Name", exact=True).fill("Alice Example")
        page.get_by_role("button", name="Save").click()
        with iris.client() as client:
            wait_for(lambda: client.get(f"/api/identities/{target}").json().get("name")
                     == "Alice Example", 15, what="rename saved")

        app.open("identities")
        for identity in (target, source):
            page.locator(f".identity-card[data-identity='{identity}'] input[type=checkbox]").check()
        page.get_by_role("button", name="Merge…").click()
        page.locator(f"dialog input[type=radio][value='{target}']").check()
        page.locator("dialog").get_by_role("button", name="Merge").click()
        expect(page.locator(f".identity-card[data-identity='{source}']")).to_have_count(
            0, timeout=15_000)
        with iris.client() as client:
            assert client.get(f"/api/identities/{source}").status_code == 404
            merged = client.get(f"/api/identities/{target}").json()
        assert merged["name"] == "Alice Example" and merged["num_sightings"] == 4
    finally:
        with iris.client() as client:
            client.post("/api/identities/bulk-delete", json={"ids": [target, source]})
            client.delete(f"/api/cameras/{camera_id}")


def seed_face_samples(engine: Engine, root: Path, camera_id: int, n: int) -> list[int]:
    """`n` captures of one face (the same vector: one group), each with a crop on disk."""
    vector = np.zeros(512, np.float32)
    vector[0] = 1.0
    crop = cv2.imencode(".jpg", np.full((16, 16, 3), 120, np.uint8))[1].tobytes()
    now = datetime.now(UTC)
    with Session(engine) as session:
        rows = []
        for k in range(n):
            relative = f"identities/spa-faces/{k}.jpg"
            (root / relative).parent.mkdir(parents=True, exist_ok=True)
            (root / relative).write_bytes(crop)
            rows.append(FaceSample(camera_id=camera_id, ts=now - timedelta(seconds=k),
                                   crop_path=relative, embedding=vector_to_blob(vector)))
        session.add_all(rows)
        session.commit()
        return [row.id for row in rows if row.id is not None]


def test_face_groups_clear_all_asks_then_deletes_every_captured_face(
        app: AppPage, iris: Any, engine: Engine) -> None:
    with iris.client() as client:
        camera_id = client.post("/api/cameras", json={
            "name": "Hall", "enabled": False, "rtsp_url": "rtsp://127.0.0.1:9/hall"}).json()["id"]
    samples = seed_face_samples(engine, iris.settings.root, camera_id, 3)
    with Session(engine) as session:  # other modules' captures, when run in one session
        total = len(session.exec(select(FaceSample)).all())
    page = app.page
    try:
        app.open("face-groups")
        group = page.locator(".group-card", has_text="3 faces · Hall").first
        expect(group).to_be_visible()
        expect(group.locator(".member-strip img")).to_have_count(len(samples))
        page.get_by_role("button", name="Clear all…").click()
        expect(page.locator("dialog[open]")).to_contain_text("Delete all captured faces?")
        page.locator("dialog").get_by_role("button", name="Cancel").click()  # asks first
        expect(group).to_be_visible()
        page.get_by_role("button", name="Clear all…").click()
        page.locator("dialog").get_by_role("button", name="Delete all").click()
        expect(page.locator(".toast-success")).to_contain_text(f"Deleted {total} captured faces.")
        expect(page.locator(".view-face-groups .empty")).to_contain_text("No face groups")
        with Session(engine) as session:
            assert session.exec(select(FaceSample)).all() == []
        assert app.take_errors() == []
    finally:
        with iris.client() as client:
            client.delete(f"/api/cameras/{camera_id}")
