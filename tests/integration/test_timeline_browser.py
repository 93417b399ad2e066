"""The recordings timeline in a real Chromium, over footage whose frames carry the wall clock.

A clock camera (tests/support/clock_camera.py) records continuously for over a minute; then,
in the web app: scrubbing the zoomed timeline to a moment plays footage of that moment (read
back from the played frame) and playback moves the cursor; an event's timeline link and the
events list play the event and mark it current; a selected range exports as an MP4 of that
length, with progress, and a range too long or with nothing recorded says why; the System
view shows each camera's storage and coverage. The browser runs in another time zone than
UTC, so local days and the server's UTC meet.
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest
from playwright.sync_api import Browser, Page, expect

from tests.integration.conftest import API_KEY
from tests.integration.spa_helpers import CHROMIUM, AppPage, open_app, paused_frame
from tests.support.clock_camera import ClockCamera, read_clock
from tests.support.media import probe
from tests.support.rtsp import gstreamer_available
from tests.support.wait import wait_for

pytestmark = [
    pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="Debian chromium missing"),
    pytest.mark.skipif(not gstreamer_available(), reason="GStreamer RTSP server missing"),
]

ZONE = "Europe/Berlin"
FOOTAGE_S = 75  # recorded before the browser looks
MANUAL_S = 6
TOLERANCE_S = 2.0
VIDEO = ".vod-video"
TRACK = ".tl-track"
PLAYING = f"""() => {{ const v = document.querySelector("{VIDEO}");
    return v && v.getAttribute("src") && !v.paused && !v.seeking && v.readyState >= 2; }}"""
THROTTLED = {"offline": False, "latency": 0, "downloadThroughput": 150_000,
             "uploadThroughput": -1}


@dataclass(frozen=True)
class Recorded:
    camera_id: int
    event_id: int
    event_start: float  # where the manual event's footage starts (epoch seconds)
    created: float


def iso(epoch: float) -> str:
    return datetime.fromtimestamp(epoch, UTC).isoformat().replace("+00:00", "Z")


def epoch(text: str) -> float:
    return datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()


def spans(client: httpx.Client, camera_id: int) -> list[tuple[float, float]]:
    now = time.time()
    answer = client.get("/api/recordings", params={"camera_id": camera_id, "from": iso(now - 3600),
                                                   "to": iso(now + 60)})
    assert answer.status_code == 200, answer.text
    return [(epoch(s["start"]), epoch(s["end"])) for s in answer.json()["spans"]]


@pytest.fixture(scope="module")
def shots(artifacts_dir: Path) -> Path:
    return artifacts_dir / "screenshots"


@pytest.fixture
def app(iris: Any, browser: Browser) -> Iterator[AppPage]:
    tab = open_app(browser, iris.base_url, API_KEY, timezone_id=ZONE)
    try:
        yield tab
    finally:
        tab.context.close()


@pytest.fixture(scope="module")
def recorded(iris: Any, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Recorded]:
    """A clock camera recording continuously, with a manual recording in its footage."""
    folder = tmp_path_factory.mktemp("timeline")
    with ClockCamera(log_path=folder / "camera.log") as camera, iris.client() as client:
        created = time.time()
        made = client.post("/api/cameras", json={"name": "Clock timeline", "rtsp_url": camera.url,
                                                 "detect_interval": 60})
        assert made.status_code == 201, made.text
        camera_id = made.json()["id"]
        try:
            wait_for(lambda: spans(client, camera_id), 90, what="first footage")
            started = client.post(f"/api/live/{camera_id}/record/start")
            assert started.status_code == 200, started.text
            time.sleep(MANUAL_S)  # the length of the recording, not a synchronisation
            stopped = client.post(f"/api/live/{camera_id}/record/stop",
                                  json={"started_at": started.json()["started_at"]}, timeout=90)
            assert stopped.status_code == 200, stopped.text
            event = client.get(f"/api/events/{stopped.json()['event_id']}").json()
            wait_for(lambda: sum(e - s for s, e in spans(client, camera_id)) >= FOOTAGE_S, 240,
                     what=f"{FOOTAGE_S} s of footage")
            yield Recorded(camera_id, event["id"], epoch(event["clip_start"] or event["ts"]),
                           created)
        finally:
            client.delete(f"/api/cameras/{camera_id}")


def latest_span(iris: Any, camera_id: int) -> tuple[float, float]:
    with iris.client() as client:
        return spans(client, camera_id)[-1]


def track_geometry(page: Page, t: float, lane: float = 0.4) -> dict[str, float]:
    """Where time `t` (epoch s) is on the timeline's track (page px), and ms per px there."""
    return page.evaluate("""([t, lane]) => { const s = document.querySelector(".tl-track");
        const b = s.getBoundingClientRect();
        const from = Number(s.dataset.viewStart), to = Number(s.dataset.viewEnd);
        const pad = Number(s.dataset.pad), inner = b.width - 2 * pad;
        return { x: b.left + pad + ((t - from) / (to - from)) * inner, y: b.top + b.height * lane,
                 msPerPx: (to - from) / inner, span: to - from, from, to }; }""", [t * 1000, lane])


def cursor_ms(page: Page) -> float:
    return float(page.get_attribute(TRACK, "aria-valuenow") or "nan")


def frame_time(page: Page) -> tuple[float, float]:
    """(time decoded from the paused video's frame, the time the app says it shows), epoch s."""
    image, _ = paused_frame(page, VIDEO)
    shown = read_clock(image)
    assert shown is not None, "no clock code in the played frame"
    said = float(page.get_attribute(".rec-clock", "data-time") or "nan") / 1000
    return shown, said


def test_scrubbing_the_zoomed_timeline_plays_that_moment(app: AppPage, iris: Any,
                                                         recorded: Recorded,
                                                         shots: Path) -> None:
    page = app.page
    start, end = latest_span(iris, recorded.camera_id)
    moment = end - 30
    assert moment - start > 20, (start, end)
    app.open(f"recordings/{recorded.camera_id}")
    page.wait_for_selector(".tl-span", timeout=30_000)
    expect(page.locator(".tl-hour-rec").first).to_be_visible()  # the day summary's hour bars
    app.screenshot(shots, "timeline")

    # Zoom with the wheel over the moment until a few minutes fill the track.
    day_span = track_geometry(page, moment)["span"]
    for _ in range(20):
        where = track_geometry(page, moment)
        if where["span"] <= 3 * 60_000:
            break
        page.mouse.move(where["x"], where["y"])
        page.mouse.wheel(0, -400)
    zoomed = track_geometry(page, moment)
    assert zoomed["span"] <= 3 * 60_000 < day_span, zoomed
    assert zoomed["from"] <= moment * 1000 <= zoomed["to"], "the wheel zooms around the pointer"
    page.get_by_role("button", name="Zoom out").click()
    wider = track_geometry(page, moment)
    assert wider["span"] == pytest.approx(2 * zoomed["span"], rel=0.01)

    # Drag the cursor over the track onto the moment: playback starts there.
    before = track_geometry(page, moment - 15)
    target = track_geometry(page, moment)
    page.mouse.move(before["x"], target["y"])
    page.mouse.down()
    page.mouse.move(target["x"], target["y"], steps=8)
    page.mouse.up()
    chosen = cursor_ms(page) / 1000
    assert abs(chosen - moment) * 1000 <= 2 * target["msPerPx"] + 50, (chosen, moment)
    page.wait_for_function(PLAYING, timeout=60_000)
    shown, said = frame_time(page)
    assert abs(shown - chosen) <= TOLERANCE_S, f"chose {iso(chosen)}, the video showed {iso(shown)}"
    assert abs(said - shown) <= TOLERANCE_S, (said, shown)

    # Space on the track plays on; the cursor follows the footage.
    page.focus(TRACK)
    page.keyboard.press(" ")
    page.wait_for_function(f"() => Number(document.querySelector('{TRACK}')"
                           f".getAttribute('aria-valuenow')) > {(said + 3) * 1000}",
                           timeout=30_000)
    shown, said = frame_time(page)
    assert shown >= chosen + 2.5, (shown, chosen)
    assert abs(said - shown) <= TOLERANCE_S, (said, shown)
    assert abs(cursor_ms(page) / 1000 - said) < 0.5
    app.screenshot(shots, "timeline-zoomed")
    assert app.take_errors() == []


def test_events_link_to_the_timeline_and_seek_the_player(app: AppPage, recorded: Recorded,
                                                         shots: Path) -> None:
    page = app.page
    app.open(f"live/{recorded.camera_id}")
    page.locator(".page-actions").get_by_role("link", name="Recordings").click()
    page.wait_for_url(re.compile(rf"#/recordings/{recorded.camera_id}$"))

    app.open(f"events?camera_id={recorded.camera_id}")
    page.get_by_label(f"Event {recorded.event_id} on the timeline").click()
    page.wait_for_url(re.compile(rf"#/recordings/{recorded.camera_id}\?"))
    page.wait_for_function(PLAYING, timeout=60_000)
    item = f".rec-event[data-event='{recorded.event_id}']"
    mark = f".tl-event[data-event='{recorded.event_id}']"
    expect(page.locator(f"{item}.current")).to_have_attribute("aria-current", "true")
    expect(page.locator(f"{mark}.current")).to_have_count(1)
    shown, _ = frame_time(page)
    assert abs(shown - recorded.event_start) <= TOLERANCE_S, (shown, recorded.event_start)

    # Away to the end of the footage: the event is no longer current; clicking it seeks back.
    page.focus(TRACK)
    page.keyboard.press("End")
    expect(page.locator(f"{item}.current")).to_have_count(0, timeout=30_000)
    page.click(item)
    expect(page.locator(f"{item}.current")).to_have_count(1, timeout=30_000)
    page.wait_for_function(PLAYING, timeout=60_000)
    shown, _ = frame_time(page)
    assert abs(shown - recorded.event_start) <= TOLERANCE_S, (shown, recorded.event_start)
    app.screenshot(shots, "timeline-event")
    assert app.take_errors() == []


def touch(cdp: Any, kind: str, points: list[tuple[float, float]]) -> None:
    fingers = [{"x": x, "y": y, "id": i} for i, (x, y) in enumerate(points)]
    cdp.send("Input.dispatchTouchEvent", {"type": kind, "touchPoints": fingers})


def test_fingers_and_keys_zoom_pan_and_select(app: AppPage, iris: Any,
                                              recorded: Recorded) -> None:
    page = app.page
    start, end = latest_span(iris, recorded.camera_id)
    middle = (start + end) / 2
    app.open(f"recordings/{recorded.camera_id}?t={iso(middle)}")
    page.wait_for_selector(".tl-span", timeout=30_000)
    page.wait_for_function(PLAYING, timeout=60_000)
    cdp = app.context.new_cdp_session(page)
    cdp.send("Emulation.setTouchEmulationEnabled", {"enabled": True, "maxTouchPoints": 2})

    # Two fingers spread apart over the track: the view narrows around them.
    before = track_geometry(page, middle)
    x, y = before["x"], before["y"]
    touch(cdp, "touchStart", [(x - 40, y), (x + 40, y)])
    for spread in range(60, 161, 20):  # fingers 80 px apart, then 320
        touch(cdp, "touchMove", [(x - spread, y), (x + spread, y)])
    touch(cdp, "touchEnd", [])
    pinched = track_geometry(page, middle)
    assert pinched["span"] == pytest.approx(before["span"] * 40 / 160, rel=0.05), pinched
    assert pinched["from"] <= middle * 1000 <= pinched["to"]

    # Keys: zoom in and out, move the cursor (playback follows), select at the cursor.
    page.focus(TRACK)
    page.keyboard.press("+")
    assert track_geometry(page, middle)["span"] == pytest.approx(pinched["span"] / 2, rel=0.01)
    page.keyboard.press("-")
    page.keyboard.press("-")
    assert track_geometry(page, middle)["span"] == pytest.approx(pinched["span"] * 2, rel=0.01)
    page.keyboard.press("[")
    at = cursor_ms(page)
    for _ in range(3):
        page.keyboard.press("ArrowRight")  # 10 s a press in a quarter-hour view
    moved = cursor_ms(page)
    assert moved >= at + 20_000, (at, moved)
    page.keyboard.press("]")
    assert selected_range(page) == pytest.approx((at / 1000, moved / 1000), abs=1)
    page.wait_for_function(f"() => Number(document.querySelector('.rec-clock').dataset.time)"
                           f" >= {moved - 1000}", timeout=30_000)  # it played from there
    page.keyboard.press("0")
    assert track_geometry(page, middle)["span"] >= 23 * 3_600_000  # the whole day
    assert app.take_errors() == []


def selected_range(page: Page) -> tuple[float, float]:
    query: dict[str, str] = page.evaluate(
        "() => Object.fromEntries(new URLSearchParams(location.hash.split('?')[1] || ''))")
    return epoch(query["from"]), epoch(query["to"])


def input_time(page: Page, label: str, near: float) -> float:
    """The epoch s an `<input type=time>` of the export form names, on `near`'s local day."""
    value = page.get_by_label(label).input_value()
    day = datetime.fromtimestamp(near, ZoneInfo(ZONE))
    hours, minutes, seconds = (int(part) for part in value.split(":"))
    return day.replace(hour=hours, minute=minutes, second=seconds, microsecond=0).timestamp()


def local_clock(t: float) -> str:
    return datetime.fromtimestamp(t, ZoneInfo(ZONE)).strftime("%H:%M:%S")


def open_with_range(app: AppPage, camera_id: int, at: float, start: float, stop: float) -> None:
    """The timeline at `at` with [start, stop) selected (from the URL), once it shows them."""
    app.open(f"recordings/{camera_id}?t={iso(at)}&from={iso(start)}&to={iso(stop)}")
    # The same view was shown before: wait for the new one's selection, not the old one's.
    expect(app.page.get_by_label("Export from")).to_have_value(local_clock(start))
    expect(app.page.get_by_label("Export to")).to_have_value(local_clock(stop))


def test_a_selected_range_exports_as_an_mp4_of_its_length(app: AppPage, iris: Any,
                                                          recorded: Recorded, shots: Path,
                                                          tmp_path: Path) -> None:
    page = app.page
    _, end = latest_span(iris, recorded.camera_id)
    first, last = end - 50, end - 25
    app.open(f"recordings/{recorded.camera_id}?t={iso(first)}")
    page.wait_for_selector(".tl-span", timeout=30_000)
    # Drag along the selection strip (no modifier: what a finger does).
    a = track_geometry(page, first, lane=0.9)
    b = track_geometry(page, last, lane=0.9)
    page.mouse.move(a["x"], a["y"])
    page.mouse.down()
    page.mouse.move(b["x"], b["y"], steps=10)
    page.mouse.up()
    slack = 2 * a["msPerPx"] / 1000 + 1
    assert abs(input_time(page, "Export from", first) - first) <= slack
    assert abs(input_time(page, "Export to", last) - last) <= slack
    start, stop = selected_range(page)
    assert abs(start - first) <= slack and abs(stop - last) <= slack, (start, stop)

    cdp = app.context.new_cdp_session(page)  # a slow link, so the progress can be seen
    cdp.send("Network.enable")
    cdp.send("Network.emulateNetworkConditions", THROTTLED)
    with page.expect_download(timeout=180_000) as download:
        page.get_by_role("button", name="Export MP4").click()
        page.wait_for_function("""() => { const p = document.querySelector(".export-progress");
            return p && !p.hidden && p.value > 0 && p.value < 1; }""", timeout=60_000)
        expect(page.locator(".export-note")).to_contain_text(" of ")
        app.screenshot(shots, "export-progress")
    cdp.send("Network.emulateNetworkConditions", {**THROTTLED, "downloadThroughput": -1})
    saved = tmp_path / "export.mp4"
    download.value.save_as(saved)
    expect(page.locator(".export-note")).to_contain_text("Saved")
    length = float(probe(saved)["format"]["duration"])
    assert abs(length - (stop - start)) <= TOLERANCE_S, (length, stop - start)

    # A range over the export limit (1 h) and one with nothing recorded say why.
    open_with_range(app, recorded.camera_id, first, first - 3700, first)
    page.get_by_role("button", name="Export MP4").click()
    expect(page.locator(".export-error")).to_contain_text("cannot be exported", timeout=30_000)
    expect(page.locator(".export-error")).to_contain_text("at most 1 h")
    before = recorded.created - 300
    open_with_range(app, recorded.camera_id, first, before, before + 30)
    page.get_by_role("button", name="Export MP4").click()
    expect(page.locator(".export-error")).to_contain_text("Nothing was recorded between",
                                                          timeout=30_000)
    errors = app.take_errors()
    refused = [e for e in errors if "/clip?" in e and re.search(r"status of 40[04]", e)]
    assert len(refused) == 2 and errors == refused, errors


def test_the_system_view_shows_storage_per_camera(app: AppPage, recorded: Recorded,
                                                  shots: Path) -> None:
    page = app.page
    page.locator("#nav").get_by_role("link", name="Recordings").click()  # a camera's day
    page.wait_for_url(re.compile(r"#/recordings/\d+"))
    app.open("system")
    row = page.locator(f".storage tr[data-camera='{recorded.camera_id}']")
    expect(row).to_be_visible(timeout=30_000)
    cells = row.locator("td")
    expect(cells.nth(0)).to_have_text("Clock timeline")
    expect(cells.nth(1)).to_have_text(re.compile(r"^\d+(\.\d)? (kB|MB|GB)$"))
    expect(cells.nth(3)).to_have_text(re.compile(r"(kB|MB|GB)/day$"))
    expect(cells.nth(4)).to_have_text(re.compile(r"^\d+\.\d %$"))
    row.scroll_into_view_if_needed()
    app.screenshot(shots, "system-storage")
    assert app.take_errors() == []
