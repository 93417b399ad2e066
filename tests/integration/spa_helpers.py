"""Driving the web app in Debian's Chromium: launch, sign in, collect console errors, wait."""

from __future__ import annotations

import base64
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import cv2
import numpy as np
from playwright.sync_api import Browser, BrowserContext, ConsoleMessage, Page

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]
VIEWPORT = {"width": 1400, "height": 900}


@dataclass
class AppPage:
    """One signed-in tab of the app, with everything the browser reported as an error."""

    page: Page
    context: BrowserContext
    base_url: str
    errors: list[str] = field(default_factory=list)

    def open(self, route: str) -> None:
        """Go to `#/<route>` and wait until the view has rendered (its spinner is gone)."""
        self.page.goto(f"{self.base_url}/#/{route}")
        name = route.split("/")[0].split("?")[0]
        self.page.wait_for_function(
            f"""() => document.querySelector('.view-{name}') &&
                      !document.querySelector('#view .loading')""",
            timeout=30_000,
        )

    def screenshot(self, folder: Path, name: str) -> Path:
        """A full-page PNG once the view has loaded and its still images arrived (or failed)."""
        self.page.wait_for_function(
            "() => !document.querySelector('#view .loading')", timeout=30_000)
        self.page.wait_for_function(
            "() => [...document.querySelectorAll('#view img:not(.live-img)')]"
            ".every((img) => img.complete)", timeout=15_000)
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / f"{name}.png"
        self.page.screenshot(path=str(path), full_page=True)
        return path

    def take_errors(self) -> list[str]:
        taken, self.errors[:] = list(self.errors), []
        return taken


def _console_error(message: ConsoleMessage) -> str | None:
    if message.type != "error":
        return None
    where = message.location.get("url", "") if message.location else ""
    return f"{message.text} [{where}]"


def open_app(browser: Browser, base_url: str, api_key: str | None, *,
             service_workers: str = "allow", timezone_id: str | None = None,
             viewport: dict[str, int] | None = None, **device: Any) -> AppPage:
    """A fresh context on the app; with `api_key`, signed in through the login prompt.
    `timezone_id` (IANA) is the browser's local time zone (default: the machine's);
    `viewport` and `device` (Playwright's is_mobile, has_touch, …) make it a phone.

    The only error the sign-in may leave behind is the 401 of the first API call that made
    the app ask for the key; it is checked and dropped here.
    """
    context = browser.new_context(viewport=viewport or VIEWPORT,  # type: ignore[arg-type]
                                  service_workers=service_workers,  # type: ignore[arg-type]
                                  timezone_id=timezone_id, **device)
    page = context.new_page()
    app = AppPage(page, context, base_url)

    def on_console(message: ConsoleMessage) -> None:
        text = _console_error(message)
        if text:
            app.errors.append(text)

    page.on("console", on_console)
    page.on("pageerror", lambda error: app.errors.append(f"pageerror: {error}"))
    page.goto(f"{base_url}/#/system")
    if api_key is not None:
        page.get_by_label("API key").fill(api_key)
        page.get_by_role("button", name="Sign in").click()
        page.wait_for_function("() => !document.querySelector('dialog[open]')", timeout=15_000)
        expected = [e for e in app.errors if "401" in e and "/api/system" in e]
        assert app.errors == expected and len(expected) == 1, app.errors
        app.errors.clear()
    page.wait_for_selector(".view-system .system-grid", timeout=30_000)
    return app


def frames_differ(page: Page, selector: str, timeout: float = 20.0) -> tuple[bytes, bytes]:
    """Two screenshots of one element that differ: the picture in it is moving."""
    element = page.locator(selector)
    first = element.screenshot()
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        second = element.screenshot()
        if second != first:
            return first, second
    raise AssertionError(f"{selector} showed the same picture for {timeout} s")


def video_state(page: Page, selector: str) -> dict[str, Any]:
    result: dict[str, Any] = page.evaluate(
        """(selector) => { const v = document.querySelector(selector);
            return { error: v.error && v.error.message, paused: v.paused, time: v.currentTime,
                     duration: v.duration, ready: v.readyState,
                     seekable: v.seekable.length ? v.seekable.end(0) : 0 }; }""",
        selector,
    )
    return result


_FRAME_JS = """async (selector) => {
    const v = document.querySelector(selector);
    if (!v.paused) {
        const paused = new Promise((done) => v.addEventListener("pause", done, { once: true }));
        v.pause();
        await paused;
    }
    if (v.seeking) await new Promise((done) => v.addEventListener("seeked", done, { once: true }));
    const canvas = document.createElement("canvas");
    canvas.width = v.videoWidth;
    canvas.height = v.videoHeight;
    canvas.getContext("2d").drawImage(v, 0, 0);
    return { png: canvas.toDataURL("image/png"), position: v.currentTime };
}"""


def paused_frame(page: Page, selector: str) -> tuple[np.ndarray, float]:
    """Pause the `<video>` and take the frame it shows at its own size (BGR), with its time.

    Drawn on a canvas rather than screenshotted, so letterboxing and scaling play no part.
    """
    shot: dict[str, Any] = page.evaluate(_FRAME_JS, selector)
    png = base64.b64decode(shot["png"].split(",", 1)[1])
    image = cv2.imdecode(np.frombuffer(png, np.uint8), cv2.IMREAD_COLOR)
    assert image is not None and image.size, "the video showed no frame"
    return image, float(shot["position"])
