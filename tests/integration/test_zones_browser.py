"""Zones, masks and review in a real Chromium against a running Iris and a real RTSP camera.

A mask drawn by clicking on the camera form's picture (and a zone drawn with the keyboard) is
saved through the camera API, is there after a reload, and is drawn over the live view at the
points saved; a shape the API refuses is named in the form and nothing is saved; on a phone the
editor fits and takes taps. An event (a manual recording) is marked reviewed from the keyboard
and the unreviewed count drops; marked unreviewed again it rises; "Mark all reviewed" leaves
none.
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.integration.conftest import API_KEY
from tests.integration.spa_helpers import CHROMIUM, AppPage, open_app
from tests.integration.test_spa_phone import OVERFLOW, PHONE
from tests.support.media import make_clip, to_annexb
from tests.support.rtsp import RtspServer, gstreamer_available
from tests.support.wait import wait_for

pytestmark = pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="Debian chromium missing")

FRAME = (512, 288)
EDITOR = ".zone-editor-svg"
MASK = [(0.1, 0.1), (0.5, 0.1), (0.5, 0.6), (0.1, 0.6)]
DRAGGED = (0.6, 0.7)  # where the mask's third point is dragged to
RECORD_SECONDS = 3
#: A normalised point of an SVG drawn over a picture, in the page's pixels (viewBox units are
#: the picture's, so this holds whatever the letterboxing).
TO_PAGE = """([selector, x, y]) => { const svg = document.querySelector(selector);
    const box = svg.viewBox.baseVal;
    const p = new DOMPoint(x * box.width, y * box.height).matrixTransform(svg.getScreenCTM());
    return [p.x, p.y]; }"""
#: A polygon's points as the overlay draws them, normalised by its viewBox.
POINTS = """(selector) => { const polygon = document.querySelector(selector);
    const box = polygon.ownerSVGElement.viewBox.baseVal;
    return [...polygon.points].map((p) => [p.x / box.width, p.y / box.height]); }"""


@pytest.fixture(scope="module")
def rtsp(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RtspServer]:
    if not gstreamer_available():
        pytest.skip("GStreamer RTSP server missing")
    folder = tmp_path_factory.mktemp("zones-rtsp")
    clip = make_clip(folder / "cam.mp4", seconds=8, fps=25, size=FRAME)
    server = RtspServer(to_annexb(clip), fps=25, log_path=folder / "rtsp.log")
    server.start()
    yield server
    server.stop()


@pytest.fixture(scope="module")
def camera(iris: Any, rtsp: RtspServer) -> Iterator[int]:
    """An online camera with nothing drawn on it yet."""
    with iris.client() as client:
        created = client.post("/api/cameras", json={"name": "Driveway", "rtsp_url": rtsp.url})
        assert created.status_code in (200, 201), created.text
        camera_id = int(created.json()["id"])
        wait_for(lambda: client.get(f"/api/cameras/{camera_id}/status").json()["status"]
                 == "online", 60, what="camera online")
        yield camera_id
        client.delete(f"/api/cameras/{camera_id}")


@pytest.fixture
def app(iris: Any, browser: Browser) -> Iterator[AppPage]:
    tab = open_app(browser, iris.base_url, API_KEY)
    try:
        yield tab
    finally:
        tab.context.close()


def at(page: Page, selector: str, x: float, y: float) -> tuple[float, float]:
    px, py = page.evaluate(TO_PAGE, [selector, x, y])
    return float(px), float(py)


PICTURE = f"""() => {{ const img = document.querySelector('.zone-picture');
    if (!img || !img.complete) return -1;
    return document.querySelector('{EDITOR}').viewBox.baseVal.width === img.naturalWidth
        ? img.naturalWidth : 0; }}"""


def open_editor(app: AppPage, camera: int) -> None:
    """The camera form with the camera's snapshot as the editor's background, at its size.
    A camera just restarted (a save) answers with a placeholder first: ask for a new one."""
    app.open(f"cameras/{camera}")

    def pictured() -> bool:
        width = app.page.evaluate(PICTURE)
        if width not in (-1, FRAME[0]):
            app.page.get_by_role("button", name="New picture").click()
        return bool(width == FRAME[0])

    wait_for(pictured, 60, interval=1.0, what="the camera's picture in the editor")


def assert_close(points: list[list[float]], expected: list[tuple[float, float]]) -> None:
    assert len(points) == len(expected), points
    for got, want in zip(points, expected, strict=True):
        assert got == pytest.approx(list(want), abs=0.01), (points, expected)


def test_a_mask_drawn_by_clicking_is_saved_reloaded_and_drawn_live(
        app: AppPage, iris: Any, camera: int, artifacts_dir: Path) -> None:
    page = app.page
    open_editor(app, camera)

    # A mask by clicking: four points, then the first one again closes it.
    page.get_by_role("button", name="+ Add mask").click()
    for x, y in MASK:
        page.mouse.click(*at(page, EDITOR, x, y))
    expect(page.locator(f"{EDITOR} .handle-close")).to_have_count(1)
    page.mouse.click(*at(page, EDITOR, *MASK[0]))
    expect(page.locator(".shape-row.mask-row")).to_have_count(1)
    # The new mask is selected: drag its third point somewhere else.
    page.mouse.move(*at(page, EDITOR, *MASK[2]))
    page.mouse.down()
    page.mouse.move(*at(page, EDITOR, *DRAGGED), steps=5)
    page.mouse.up()
    expected_mask = [MASK[0], MASK[1], DRAGGED, MASK[3]]
    assert_close(page.evaluate(POINTS, f"{EDITOR} polygon.mask-shape"), expected_mask)

    # A zone with the keyboard: the cursor starts in the middle, arrows move it, Enter adds.
    page.get_by_role("button", name="+ Add zone").click()
    expect(page.locator(EDITOR)).to_be_focused()
    page.keyboard.press("Enter")  # (0.5, 0.5)
    page.keyboard.press("Shift+ArrowRight")
    page.keyboard.press("Shift+ArrowRight")
    page.keyboard.press("Enter")  # (0.6, 0.5)
    page.keyboard.press("Shift+ArrowDown")
    page.keyboard.press("Shift+ArrowDown")
    page.keyboard.press("Enter")  # (0.6, 0.6)
    page.get_by_role("button", name="Finish shape").click()
    name = page.locator(".shape-row.zone-row input[name='zone-name']")
    expect(name).to_be_focused()  # a new zone asks for its name
    name.fill("Drive")
    page.locator(".shape-row.zone-row").get_by_text("Required: events need an object here").click()
    page.locator(f"{EDITOR} [data-handle='0']").focus()  # a focused point moves with the arrows
    page.keyboard.press("ArrowLeft")
    app.screenshot(artifacts_dir / "screenshots", "zone-editor")

    page.get_by_role("button", name="Save changes").click()
    page.wait_for_selector("tr[data-camera]", timeout=30_000)
    assert page.url.endswith("#/cameras")
    with iris.client() as client:
        saved = client.get(f"/api/cameras/{camera}").json()
    assert_close(saved["motion_masks"][0], expected_mask)
    assert len(saved["motion_masks"]) == 1
    assert [z["name"] for z in saved["zones"]] == ["Drive"]
    assert_close(saved["zones"][0]["polygon"], [(0.49, 0.5), (0.6, 0.5), (0.6, 0.6)])
    assert saved["required_zones"] == ["Drive"]

    # Reloaded, the editor shows what was saved.
    page.reload()
    open_editor(app, camera)
    expect(page.locator(".shape-row.mask-row")).to_have_count(1)
    expect(page.locator(".shape-row.zone-row input[name='zone-name']")).to_have_value("Drive")
    assert_close(page.evaluate(POINTS, f"{EDITOR} polygon.mask-shape"), expected_mask)

    # The live view draws both over the picture, at the camera's own size.
    app.open(f"live/{camera}")
    overlay = ".stage .zone-overlay"
    page.wait_for_function(f"""() => {{ const svg = document.querySelector('{overlay}');
        return svg && svg.viewBox.baseVal.width === {FRAME[0]} &&
               svg.viewBox.baseVal.height === {FRAME[1]}; }}""", timeout=60_000)
    assert_close(page.evaluate(POINTS, f"{overlay} polygon.mask-shape"), expected_mask)
    expect(page.locator(f"{overlay} polygon.zone-shape[data-name='Drive']")).to_have_count(1)
    expect(page.locator(f"{overlay} .zone-name")).to_have_text("Drive ★")
    page.get_by_role("button", name="Zones").click()  # hidden on request
    expect(page.locator(overlay)).to_be_hidden()
    page.get_by_role("button", name="Zones").click()
    expect(page.locator(overlay)).to_be_visible()
    app.screenshot(artifacts_dir / "screenshots", "live-zones")
    assert app.take_errors() == []


def test_a_shape_the_api_refuses_is_named_and_nothing_is_saved(app: AppPage, iris: Any,
                                                              camera: int) -> None:
    page = app.page
    with iris.client() as client:
        before = client.get(f"/api/cameras/{camera}").json()["motion_masks"]
    open_editor(app, camera)
    page.get_by_role("button", name="+ Add mask").click()
    for x, y in [(0.2, 0.9), (0.4, 0.9), (0.6, 0.9)]:  # on one line: no area
        page.mouse.click(*at(page, EDITOR, x, y))
    page.get_by_role("button", name="Finish shape").click()
    page.get_by_role("button", name="Save changes").click()
    error = page.locator(".camera-form .form-error")
    expect(error).to_contain_text(f"motion_masks.{len(before)}")
    expect(error).to_contain_text("no area")
    expect(page.locator(f".shape-row.mask-row[data-index='{len(before)}']")).to_have_class(
        re.compile(r"\binvalid\b"))
    assert page.url.endswith(f"#/cameras/{camera}")
    with iris.client() as client:
        assert client.get(f"/api/cameras/{camera}").json()["motion_masks"] == before
    assert [e for e in app.take_errors() if "422" not in e] == []


def test_the_editor_fits_a_phone_and_takes_taps(iris: Any, browser: Browser,
                                                camera: int) -> None:
    tab = open_app(browser, iris.base_url, API_KEY, **PHONE)
    page = tab.page
    try:
        open_editor(tab, camera)
        measured = page.evaluate(OVERFLOW)
        assert measured["page"] <= measured["width"] and measured["sideways"] == [], measured
        before = page.locator(".shape-row.mask-row").count()
        page.get_by_role("button", name="+ Add mask").tap()
        for x, y in [(0.7, 0.2), (0.9, 0.2), (0.8, 0.4)]:
            page.touchscreen.tap(*at(page, EDITOR, x, y))
        page.get_by_role("button", name="Finish shape").tap()
        expect(page.locator(".shape-row.mask-row")).to_have_count(before + 1)
        measured = page.evaluate(OVERFLOW)
        assert measured["page"] <= measured["width"] and measured["sideways"] == [], measured
        assert tab.take_errors() == []
    finally:
        tab.context.close()


@pytest.fixture
def quiet_event(iris: Any, camera: int) -> int:
    """A manual recording of the camera, which is then disabled: no event comes or goes while
    the counts are compared."""
    with iris.client() as client:
        started = client.post(f"/api/live/{camera}/record/start")
        assert started.status_code == 200, started.text
        time.sleep(RECORD_SECONDS)  # the length of the recording, not a synchronisation
        stopped = client.post(f"/api/live/{camera}/record/stop",
                              json={"started_at": started.json()["started_at"]}, timeout=90)
        assert stopped.status_code == 200, stopped.text
        assert client.put(f"/api/cameras/{camera}", json={"enabled": False}).status_code == 200
        wait_for(lambda: not any(e["in_progress"] for e in client.get(
            "/api/events", params={"camera_id": camera}).json()["items"]), 60,
            what="no event of the camera in progress")
        return int(stopped.json()["event_id"])


def unreviewed(iris: Any, camera: int) -> int:
    with iris.client() as client:
        counts = client.get("/api/events/unreviewed").json()
    return int(counts["by_camera"].get(str(camera), 0))


def press_until_current(page: Page, key: str, event_id: int) -> None:
    """Move the keyboard's current card until it is the event's."""
    card = page.locator(f".event-card[data-event='{event_id}']")
    for _ in range(60):
        page.keyboard.press(key)
        if "current" in (card.get_attribute("class") or ""):
            expect(card).to_be_focused()
            return
    raise AssertionError(f"{key} never reached event {event_id}")


def test_keyboard_review_and_the_unreviewed_counts(app: AppPage, iris: Any, camera: int,
                                                   quiet_event: int) -> None:
    page = app.page
    before = unreviewed(iris, camera)
    assert before >= 1

    app.open("cameras")  # the count beside the camera's name links to its unreviewed events
    badge = page.locator(f"tr[data-camera='{camera}'] .unreviewed-badge")
    expect(badge).to_have_text(f"{before} new", timeout=15_000)
    badge.click()
    page.wait_for_selector(f".event-card[data-event='{quiet_event}']", timeout=30_000)
    assert re.search(rf"camera_id={camera}\b.*reviewed=false", page.url), page.url
    count = page.locator(".unreviewed-total")
    expect(count).to_have_text(f"{before} unreviewed")
    card = page.locator(f".event-card[data-event='{quiet_event}']")
    expect(card).to_have_attribute("data-reviewed", "false")

    press_until_current(page, "j", quiet_event)
    page.keyboard.press("r")
    expect(card).to_have_count(0)  # reviewed: gone from "Unreviewed"
    expect(count).to_have_text(f"{before - 1} unreviewed")
    with iris.client() as client:
        assert client.get(f"/api/events/{quiet_event}").json()["reviewed"] is True
    assert unreviewed(iris, camera) == before - 1

    # Under "Reviewed" the same keys mark it unreviewed again.
    page.locator("select[name='reviewed']").select_option("true")
    expect(card).to_have_attribute("data-reviewed", "true", timeout=15_000)
    press_until_current(page, "j", quiet_event)
    page.keyboard.press("r")
    expect(card).to_have_count(0)
    expect(count).to_have_text(f"{before} unreviewed")

    page.get_by_role("button", name="Mark all reviewed").click()
    page.locator("dialog").get_by_role("button", name="Mark reviewed").click()
    expect(count).to_have_text("0 unreviewed", timeout=15_000)
    assert unreviewed(iris, camera) == 0
    assert app.take_errors() == []
