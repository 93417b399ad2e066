"""A bare MSE player page in Debian's Chromium, and glass-to-glass latency read off its video.

The page (served by Playwright's `page.route` at the API's own origin, so its fetches carry the
test's credentials) fetches a camera's `/api/live/{id}/mse` stream, appends each chunk to a
`SourceBuffer` and keeps playback near the live edge, as the SPA's player will. `latency`
draws the playing `<video>` onto a canvas, hands the pixels back as a PNG, and decodes the
clock camera's time code with `read_clock`: the frame's age when the browser shows it.
"""

from __future__ import annotations

import base64
import statistics
import time
from dataclasses import dataclass
from typing import Any, Protocol

import cv2
import numpy as np
from playwright.sync_api import Browser, Page, Playwright

from tests.support.clock_camera import read_clock

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run",
                 "--autoplay-policy=no-user-gesture-required"]

PAGE = """<!doctype html>
<video id="v" muted autoplay playsinline width="640" height="360"></video>
<canvas id="c" width="640" height="360"></canvas>
<script>
const LIVE_EDGE_S = %(edge)s;
window.player = { chunks: 0, bytes: 0, seeks: 0, error: null, ended: false };
async function play(url, mime) {
  const video = document.getElementById("v");
  const source = new MediaSource();
  video.src = URL.createObjectURL(source);
  await new Promise((resolve) => source.addEventListener("sourceopen", resolve, { once: true }));
  const buffer = source.addSourceBuffer(mime);
  const queue = [];
  const pump = () => {
    if (buffer.updating || !queue.length) return;
    buffer.appendBuffer(queue.shift());
  };
  buffer.addEventListener("updateend", () => {
    const ranges = buffer.buffered;
    if (ranges.length) {
      const end = ranges.end(ranges.length - 1);
      // Stay near the live edge: a live stream is never worth watching late.
      if (video.currentTime < ranges.start(0) || end - video.currentTime > 2 * LIVE_EDGE_S) {
        video.currentTime = Math.max(ranges.start(ranges.length - 1), end - LIVE_EDGE_S);
        window.player.seeks += 1;
      }
      if (!buffer.updating && video.currentTime - ranges.start(0) > 30) {
        buffer.remove(ranges.start(0), video.currentTime - 10);
        return;
      }
    }
    pump();
  });
  video.play().catch(() => {});
  const response = await fetch(url);
  if (!response.ok) throw new Error(`HTTP ${response.status}: ${await response.text()}`);
  const reader = response.body.getReader();
  for (;;) {
    const { value, done } = await reader.read();
    if (done) break;
    window.player.chunks += 1;
    window.player.bytes += value.byteLength;
    queue.push(value);
    pump();
  }
  window.player.ended = true;
}
window.start = (url, mime) => play(url, mime).catch((e) => { window.player.error = String(e); });
window.frame = () => {
  const video = document.getElementById("v");
  const canvas = document.getElementById("c");
  const context = canvas.getContext("2d");
  context.drawImage(video, 0, 0, canvas.width, canvas.height);
  return { t: Date.now(), png: canvas.toDataURL("image/png") };
};
window.state = () => {
  const v = document.getElementById("v");
  return { currentTime: v.currentTime, width: v.videoWidth, height: v.videoHeight,
           readyState: v.readyState, audioBytes: v.webkitAudioDecodedByteCount || 0,
           videoBytes: v.webkitVideoDecodedByteCount || 0, ...window.player };
};
</script>
"""


def launch(playwright: Playwright) -> Browser:
    """Debian's Chromium, headless, as every browser test here runs it."""
    return playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)


@dataclass
class MsePlayer:
    """The player page in one tab, playing one camera's stream."""

    page: Page

    @classmethod
    def open(cls, browser: Browser, base_url: str, headers: dict[str, str],
             live_edge_s: float = 0.3) -> MsePlayer:
        page = browser.new_page()
        page.set_extra_http_headers(headers)  # the page's fetches carry the key
        url = f"{base_url}/__test__/mse.html"
        html = PAGE % {"edge": live_edge_s}
        page.route(url, lambda route: route.fulfill(body=html, content_type="text/html"))
        page.goto(url)
        return cls(page)

    def supported(self, mime: str) -> bool:
        return bool(self.page.evaluate("(m) => MediaSource.isTypeSupported(m)", mime))

    def play(self, stream_path: str, mime: str) -> None:
        self.page.evaluate("([u, m]) => { window.start(u, m); }", [stream_path, mime])

    def state(self) -> dict[str, Any]:
        return dict(self.page.evaluate("window.state()"))

    def frame(self) -> tuple[float, np.ndarray]:
        """When the frame on screen was grabbed (epoch s) and its pixels (BGR)."""
        return _decode(self.page.evaluate("window.frame()"))


GRAB_JS = """(selector) => {
  const video = document.querySelector(selector);
  const canvas = document.createElement("canvas");
  canvas.width = video.videoWidth;
  canvas.height = video.videoHeight;
  canvas.getContext("2d").drawImage(video, 0, 0);
  return { t: Date.now(), png: canvas.toDataURL("image/png") };
}"""


def _decode(shot: dict[str, Any]) -> tuple[float, np.ndarray]:
    png = base64.b64decode(shot["png"].split(",", 1)[1])
    image = cv2.imdecode(np.frombuffer(png, np.uint8), cv2.IMREAD_COLOR)
    assert image is not None, "the page's frame is no PNG"
    return float(shot["t"]) / 1000.0, np.asarray(image)


class FrameSource(Protocol):
    def frame(self) -> tuple[float, np.ndarray]:
        """When the frame on screen was grabbed (epoch s) and its pixels (BGR)."""
        ...


@dataclass
class VideoFrames:
    """The frames any `<video>` of a page (the SPA's live player) shows, at its own size."""

    page: Page
    selector: str

    def frame(self) -> tuple[float, np.ndarray]:
        return _decode(self.page.evaluate(GRAB_JS, self.selector))


@dataclass(frozen=True)
class Latency:
    """Glass-to-glass latency samples (seconds) and how many frames had no readable clock."""

    samples: list[float]
    unreadable: int

    @property
    def median(self) -> float:
        return statistics.median(self.samples)

    @property
    def p90(self) -> float:
        ordered = sorted(self.samples)
        return ordered[min(len(ordered) - 1, round(0.9 * (len(ordered) - 1)))]


def latency(player: FrameSource, samples: int, interval_s: float = 0.25) -> Latency:
    """Read the clock off `samples` frames the player shows, `interval_s` apart."""
    found: list[float] = []
    unreadable = 0
    while len(found) < samples:
        shown_at, image = player.frame()
        made_at = read_clock(image)
        if made_at is None:
            unreadable += 1
            assert unreadable < 10 * samples, "the played frames carry no readable clock"
        else:
            found.append(shown_at - made_at)
        time.sleep(interval_s)  # sampling period, not synchronisation
    return Latency(found, unreadable)
