"""The web app on a phone (390 × 844, touch) in a real Chromium against a running Iris.

Every view fits the screen (nothing scrolls sideways, the sections are a tab bar in reach);
the live grid, a focused camera, events, the timeline and identities work by touch; a viewer
sees no control of a change and a refused change says why; the app installs (manifest, icons,
service worker); the API docs open from the System view with nothing from elsewhere.
Screenshots of what the phone shows go to test-artifacts/screenshots/phone-*.png.
"""

from __future__ import annotations

import io
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest
from PIL import Image
from playwright.sync_api import Browser, expect
from sqlmodel import Session

from iris.db.engine import make_engine
from iris.demo import make_demo_clip
from tests.integration.conftest import API_KEY
from tests.integration.spa_helpers import CHROMIUM, AppPage, open_app
from tests.support.factories import identity_row, sighting_row
from tests.support.wait import wait_for

pytestmark = pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="Debian chromium missing")

PHONE = {"viewport": {"width": 390, "height": 844}, "is_mobile": True, "has_touch": True,
         "device_scale_factor": 2}
VIEWS = ["live", "live/{camera}", "cameras", "events", "recordings/{camera}", "identities",
         "identities/{identity}", "people", "face-groups", "analytics", "system"]
#: What a phone must not do: scroll the page sideways, or hide content in a box that does.
OVERFLOW = """() => {
    const width = innerWidth;
    const page = Math.max(document.documentElement.scrollWidth, document.body.scrollWidth);
    const sideways = [...document.querySelectorAll("#view *, .sidebar *")].filter((el) => {
        const style = getComputedStyle(el);
        return ["auto", "scroll"].includes(style.overflowX) && el.scrollWidth > el.clientWidth + 1;
    }).map((el) => `${el.tagName.toLowerCase()}.${[...el.classList].join(".")}`);
    return { width, page, sideways };
}"""
PLAYING = """(selector) => { const v = document.querySelector(selector);
    return Boolean(v && v.currentSrc && !v.paused && v.readyState >= 2); }"""


@dataclass(frozen=True)
class Scene:
    camera: int
    event: int
    identity: int


@pytest.fixture(scope="module")
def shots(artifacts_dir: Path) -> Path:
    folder = artifacts_dir / "screenshots"
    folder.mkdir(parents=True, exist_ok=True)
    return folder


@pytest.fixture(scope="module")
def scene(iris: Any) -> Iterator[Scene]:
    """A camera playing a clip (live, recording), a disabled one, a manual recording, an
    identity seen on the first."""
    clip = make_demo_clip(iris.settings.local_sources_path / "phone.mp4", seconds=8,
                          size=(640, 360))
    with iris.client() as client:
        made = [client.post("/api/cameras", json=body).json() for body in (
            {"name": "Front door", "rtsp_url": clip.resolve().as_uri(), "detect_interval": 60},
            {"name": "Garage (off)", "rtsp_url": "rtsp://192.0.2.7/s", "enabled": False})]
        camera = made[0]["id"]
        try:
            wait_for(lambda: client.get(f"/api/cameras/{camera}").json()["status"] == "online",
                     90, what="the phone camera online")
            started = client.post(f"/api/live/{camera}/record/start")
            assert started.status_code == 200, started.text
            time.sleep(3)  # the recording's length, not a synchronisation
            stopped = client.post(f"/api/live/{camera}/record/stop", timeout=90,
                                  json={"started_at": started.json()["started_at"]})
            assert stopped.status_code == 200, stopped.text
            engine = make_engine(iris.settings.resolved_database_url)
            with Session(engine) as session:
                now = datetime.now(UTC)
                identity = identity_row(session, name="Courier", is_named=True, last_seen=now,
                                        first_seen=now - timedelta(minutes=5), num_sightings=2)
                identity_id = identity.id
                assert identity_id is not None
                for minutes in (1, 4):
                    sighting_row(session, identity_id=identity_id, camera_id=camera,
                                 ts=now - timedelta(minutes=minutes))
                session.commit()
            engine.dispose()
            yield Scene(camera, stopped.json()["event_id"], identity_id)
        finally:
            for row in made:
                client.delete(f"/api/cameras/{row['id']}")


@pytest.fixture
def phone(iris: Any, browser: Browser) -> Iterator[AppPage]:
    """A phone signed in with the admin key."""
    tab = open_app(browser, iris.base_url, API_KEY, **PHONE)
    try:
        yield tab
    finally:
        tab.context.close()


def fits(app: AppPage) -> None:
    measured = app.page.evaluate(OVERFLOW)
    assert measured["page"] <= measured["width"], measured
    assert measured["sideways"] == [], measured


def test_every_view_fits_the_phone_and_every_section_is_in_reach(
        phone: AppPage, scene: Scene, shots: Path) -> None:
    page = phone.page
    for route in VIEWS:
        target = route.format(camera=scene.camera, identity=scene.identity)
        phone.open(target)
        phone.screenshot(shots, "unused")  # waits for the view and its still images
        fits(phone)
        page.screenshot(path=str(shots / f"phone-{route.split('/')[0]}"
                                          f"{'-detail' if '/' in route else ''}.png"))
    # The sections: a tab bar at the bottom, every tab on screen and big enough for a finger.
    tabs = page.locator("#nav .nav-link")
    assert tabs.count() == 9
    for index in range(tabs.count()):
        box = tabs.nth(index).bounding_box()
        assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= 390, box
        assert box["height"] >= 44 and box["width"] >= 38 and box["y"] >= 844 - 80, box
    (shots / "unused.png").unlink(missing_ok=True)
    assert phone.take_errors() == []


def test_live_events_timeline_and_identities_by_touch(phone: AppPage, scene: Scene,
                                                      shots: Path) -> None:
    page = phone.page
    phone.open("live")
    page.tap(f".tile[data-camera='{scene.camera}']")
    page.wait_for_url(f"**/#/live/{scene.camera}")
    page.wait_for_selector(".stage", timeout=30_000)
    page.wait_for_function("() => { const m = document.querySelector('.stage img, .stage video');"
                           " return m && (m.naturalWidth > 0 || m.videoWidth > 0); }",
                           timeout=60_000)
    fits(phone)
    page.screenshot(path=str(shots / "phone-live-focus-playing.png"))

    # An event plays in a dialog that fills the phone's width.
    phone.open(f"events?camera_id={scene.camera}")
    page.tap(f".event-card:has([data-select='{scene.event}']) .thumb")
    dialog = page.locator("dialog.player[open]")
    expect(dialog).to_be_visible()
    page.wait_for_function(PLAYING, arg="dialog.player video", timeout=60_000)
    box = dialog.bounding_box()
    assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= 390 + 0.5, box
    page.screenshot(path=str(shots / "phone-event-playing.png"))
    page.tap("dialog.player .dialog-foot .btn-primary")  # Close
    expect(dialog).to_have_count(0)

    # The timeline: tapping an event of the day plays the recording from there.
    phone.open(f"recordings/{scene.camera}")
    page.wait_for_selector(f".rec-event[data-event='{scene.event}']", timeout=30_000)
    page.tap(f".rec-event[data-event='{scene.event}']")
    page.wait_for_function(PLAYING, arg=".vod-video", timeout=60_000)
    page.get_by_role("button", name="Zoom in").tap()
    fits(phone)
    page.screenshot(path=str(shots / "phone-recordings-playing.png"))

    # Identities: a card opens the identity, its sightings fit the screen.
    phone.open("identities")
    page.tap(f".identity-card a[href='#/identities/{scene.identity}']")
    page.wait_for_url(f"**/#/identities/{scene.identity}")
    page.wait_for_selector(".view-identities .sighting", timeout=30_000)
    fits(phone)
    assert phone.take_errors() == []


def test_a_viewer_on_the_phone_sees_no_control_of_a_change(iris: Any, browser: Browser,
                                                            scene: Scene, shots: Path) -> None:
    with iris.client() as client:
        made = client.post("/api/system/keys", json={"name": "phone-viewer",
                                                     "cameras": [scene.camera]})
        assert made.status_code == 201, made.text
    try:
        viewer = open_app(browser, iris.base_url, made.json()["token"], **PHONE)
        page = viewer.page
        try:
            expect(page.locator("#nav .nav-link")).to_have_count(8)  # no Cameras section
            expect(page.locator("#nav [data-route='cameras']")).to_have_count(0)
            viewer.open("system")
            expect(page.locator(".view-system")).to_contain_text("viewer · camera #")
            viewer.open(f"live/{scene.camera}")
            expect(page.locator(".btn-record")).to_be_hidden()
            viewer.open("events")
            expect(page.locator(".event-card").first).to_be_visible()
            for hidden in (".bulk-bar", ".select-one", "text=Clear all…"):
                expect(page.locator(hidden).first).to_be_hidden()
            viewer.open("identities")
            expect(page.locator(".bulk-bar")).to_be_hidden()
            page.screenshot(path=str(shots / "phone-viewer-identities.png"))
            viewer.open("cameras/new")
            expect(page.locator("#view")).to_contain_text("Viewers cannot change this")
            # A change the page does not offer, tried all the same: the server's reason shows.
            page.evaluate("""async () => { const { api } = await import("./js/endpoints.js");
                try { await api.events.remove(1); } catch (error) { return error.status; } }""")
            expect(page.locator(".toast-error")).to_contain_text(
                "Viewers cannot delete events: this needs the admin role.")
            expect(page.locator(".toast-error")).to_have_count(1)
            assert [e for e in viewer.take_errors() if "403" not in e] == []
        finally:
            viewer.context.close()
    finally:
        with iris.client() as client:
            client.delete("/api/system/keys/phone-viewer")


def test_the_app_installs_and_its_service_worker_runs(phone: AppPage, iris: Any,
                                                      scene: Scene) -> None:
    page = phone.page
    manifest = httpx.get(f"{iris.base_url}/manifest.json", timeout=30).json()
    assert manifest["display"] == "standalone" and manifest["start_url"]
    for icon in manifest["icons"]:
        answer = httpx.get(f"{iris.base_url}/{icon['src']}", timeout=30)
        assert answer.status_code == 200, icon
        if icon["type"] == "image/png":
            size = Image.open(io.BytesIO(answer.content)).size
            assert f"{size[0]}x{size[1]}" == icon["sizes"], icon
    assert {"192x192", "512x512"} <= {i["sizes"] for i in manifest["icons"]}
    assert page.evaluate("() => Boolean(navigator.serviceWorker.controller)")
    cdp = page.context.new_cdp_session(page)
    parsed = cdp.send("Page.getAppManifest")
    assert parsed["errors"] == [] and parsed["url"].endswith("/manifest.json"), parsed
    # Chromium's own verdict; a Playwright context is incognito, which is the only objection
    # a real browser profile would not raise.
    errors = cdp.send("Page.getInstallabilityErrors")["installabilityErrors"]
    assert [e for e in errors if e["errorId"] != "in-incognito"] == [], errors
    # The worker still carries the key: a thumbnail <img> (no header of its own) loads.
    phone.open("live")
    page.wait_for_function("() => [...document.querySelectorAll('.tile img, .tile video')]"
                           ".some((m) => m.naturalWidth > 0 || m.videoWidth > 0)",
                           timeout=60_000)


def test_api_docs_open_from_the_system_view_with_nothing_from_elsewhere(
        phone: AppPage, iris: Any, shots: Path) -> None:
    page = phone.page
    foreign: list[str] = []
    page.on("request", lambda request: foreign.append(request.url)
            if urlsplit(request.url).hostname not in ("127.0.0.1", "localhost") else None)
    phone.open("system")
    page.tap("a.api-docs-link")
    page.wait_for_url("**/api/docs")
    page.wait_for_selector(".swagger-ui .opblock", timeout=60_000)
    assert page.locator(".swagger-ui .opblock").count() >= 40
    expect(page.locator(".swagger-ui")).to_contain_text("/api/cameras")
    page.screenshot(path=str(shots / "phone-api-docs.png"))
    assert foreign == []
    assert phone.take_errors() == []
