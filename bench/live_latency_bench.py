"""Glass-to-glass latency of the SPA's live player in Chromium, and what a live tile costs it.

A running Iris (`iris up`) with live RTSP clock cameras (`tests/support/clock_camera.py`: every
frame carries the wall-clock time it was made). In one run:

1. **Latency**: the SPA's focused view (#/live/<id>, `web/js/components/mse-player.js`) plays the
   640x360 camera through MSE; every ``--interval`` seconds the frame the `<video>` shows is
   drawn to a canvas and its clock read back. Latency = when the browser showed it − when the
   camera made it, also as a ratio to the camera's frame interval and GOP (1 s). Goal ≤ 1 s.
2. **Browser CPU per tile** (what chooses the grid's MSE/MJPEG threshold, `web/js/views/live.js`):
   Chromium's processes over ``--cpu-seconds`` with a bare page showing nothing, one MSE player
   of the 1280x720 camera, and one 2 fps MJPEG `<img>` of it (the grid's tile rate); each
   against the empty page in the same run.

    .venv/bin/python -m bench.live_latency_bench [--samples 40] [--fps 15] [--cpu-seconds 10]

Writes ``bench/out/live_latency.md``.
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from playwright.sync_api import Browser, sync_playwright

from bench.common import CpuMeter, matching, process_tree, table, write_report
from bench.iris_harness import BenchIris
from tests.integration.iris_process import KEY
from tests.integration.spa_helpers import open_app
from tests.support.clock_camera import ClockCamera
from tests.support.mse_player import Latency, MsePlayer, VideoFrames, latency, launch

WIDTH, HEIGHT = 640, 360
TILE = (1280, 720)
GOP_S = 1.0  # the clock camera's keyframe interval
GOAL_S = 1.0
GRID_FPS = 2
VIDEO = ".stage .live-player video"
PLAYING = f"""() => {{ const v = document.querySelector("{VIDEO}");
    return v && v.readyState >= 2 && v.currentTime > 3 && !v.paused; }}"""
IMG_PAGE = "<!doctype html><img id='i' src='%s' width='640' height='360'>"


@dataclass
class BrowserCpu:
    """Chromium's cores over a window: empty page, one MSE player, one 2 fps MJPEG tile."""

    idle: float
    mse: float
    mjpeg: float
    mse_fps: float
    mjpeg_fps: float


def chromium_meter() -> CpuMeter:
    """Every Chromium process this benchmark started (browser, renderers, GPU, utility)."""
    return CpuMeter(lambda: matching(process_tree(os.getpid()), "chromium"))


def spa_latency(browser: Browser, iris: BenchIris, camera_id: int,
                args: argparse.Namespace) -> Latency:
    app = open_app(browser, iris.base_url, KEY)
    try:
        app.open(f"live/{camera_id}")
        app.page.wait_for_function(PLAYING, timeout=90_000)
        mode = app.page.get_attribute(".stage .live-player", "data-mode")
        assert mode == "mse", f"the focused view plays {mode}, not MSE"
        return latency(VideoFrames(app.page, VIDEO), samples=args.samples,
                       interval_s=args.interval)
    finally:
        app.context.close()


def window(meter: CpuMeter, seconds: float) -> float:
    meter.start()
    time.sleep(seconds)  # the measured window
    return meter.stop().cores


def browser_cpu(browser: Browser, iris: BenchIris, camera_id: int,
                args: argparse.Namespace) -> BrowserCpu:
    meter = chromium_meter()
    headers = {"Authorization": f"Bearer {KEY}"}
    idle_page = MsePlayer.open(browser, iris.base_url, headers)
    idle = window(meter, args.cpu_seconds)
    idle_page.page.close()

    info = iris.api().get(f"/api/live/{camera_id}/mse/info", timeout=30).json()
    player = MsePlayer.open(browser, iris.base_url, headers)
    player.play(info["stream"], info["mime"])
    player.page.wait_for_function("window.state().currentTime > 2", timeout=60_000)
    decoded0 = player.page.evaluate("document.getElementById('v').getVideoPlaybackQuality()"
                                    ".totalVideoFrames")
    mse = window(meter, args.cpu_seconds)
    decoded = player.page.evaluate("document.getElementById('v').getVideoPlaybackQuality()"
                                   ".totalVideoFrames") - decoded0
    player.page.close()

    page = browser.new_page()
    page.set_extra_http_headers(headers)
    url = f"{iris.base_url}/__bench__/img.html"
    stream = f"/api/live/{camera_id}/stream?fps={GRID_FPS}"
    page.route(url, lambda route: route.fulfill(body=IMG_PAGE % stream, content_type="text/html"))
    page.goto(url)
    page.wait_for_function("document.getElementById('i').naturalWidth > 0", timeout=60_000)
    mjpeg = window(meter, args.cpu_seconds)
    page.close()
    return BrowserCpu(idle, mse, mjpeg, decoded / args.cpu_seconds, GRID_FPS)


def render(args: argparse.Namespace, measured: Latency, cpu: BrowserCpu) -> str:
    ordered = sorted(measured.samples)
    verdict = "met" if measured.median <= GOAL_S else "not met"
    interval = 1 / args.fps
    mse_tile, mjpeg_tile = max(0.0, cpu.mse - cpu.idle), max(0.0, cpu.mjpeg - cpu.idle)
    return "\n".join([
        f"## Live MP4 glass-to-glass latency (SPA focused view in Chromium, "
        f"{WIDTH}x{HEIGHT}@{args.fps} H.264+AAC)",
        "",
        "A clock camera's frames carry the time they were made; the frame the SPA's `<video>` "
        "shows is read back off a canvas. Fragments end at every keyframe (GOP 1 s) and at "
        "0.5 s; the player jumps to 0.3 s behind the newest buffered frame when it falls 1 s "
        "behind.",
        "",
        table(["figure", "seconds", "frame intervals", "GOPs"], [
            ("median", f"**{measured.median:.3f}**", f"{measured.median / interval:.1f}",
             f"{measured.median / GOP_S:.2f}"),
            ("p90", f"{measured.p90:.3f}", f"{measured.p90 / interval:.1f}",
             f"{measured.p90 / GOP_S:.2f}"),
            ("min", f"{ordered[0]:.3f}", f"{ordered[0] / interval:.1f}", ""),
            ("max", f"{ordered[-1]:.3f}", f"{ordered[-1] / interval:.1f}", ""),
            ("samples (unreadable frames)", f"{len(ordered)} ({measured.unreadable})", "", "")]),
        "",
        f"- Goal: median ≤ {GOAL_S:g} s: **{verdict}**.",
        "",
        f"### What a live tile costs the browser ({TILE[0]}x{TILE[1]}@{args.fps}, Chromium "
        "software decode, one window each)",
        "",
        table(["page", "Chromium CPU (cores)", "vs empty page", "tile's own (cores)"], [
            ("empty page (baseline)", f"{cpu.idle:.3f}", "1.00", ""),
            (f"1 MSE player ({cpu.mse_fps:.1f} frames/s decoded)", f"{cpu.mse:.3f}",
             f"{cpu.mse / max(cpu.idle, 1e-3):.2f}", f"{mse_tile:.3f}"),
            (f"1 MJPEG tile at {GRID_FPS} fps", f"{cpu.mjpeg:.3f}",
             f"{cpu.mjpeg / max(cpu.idle, 1e-3):.2f}", f"{mjpeg_tile:.3f}")]),
        "",
        f"- One MSE tile costs the browser {mse_tile / max(mjpeg_tile, 1e-3):.1f}× a "
        f"{GRID_FPS} fps MJPEG tile; 16 MSE tiles would be ≈ {16 * mse_tile:.2f} cores.",
    ]) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--samples", type=int, default=40)
    parser.add_argument("--interval", type=float, default=0.5)
    parser.add_argument("--fps", type=int, default=15)
    parser.add_argument("--cpu-seconds", type=float, default=10.0)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="iris-bench-latency-") as tmp:
        folder = Path(tmp)
        camera = ClockCamera(width=WIDTH, height=HEIGHT, fps=args.fps, audio="aac",
                             log_path=folder / "camera.log").start()
        tile = ClockCamera(width=TILE[0], height=TILE[1], fps=args.fps, audio="aac",
                           log_path=folder / "tile.log").start()
        iris = BenchIris(folder / "iris")
        try:
            print(f"iris up healthy in {iris.start():.1f} s", flush=True)
            ids = [iris.add_camera(name, url, faces_enabled=False, reid_enabled=False,
                                   detect_interval=60)
                   for name, url in (("clock", camera.url), ("tile", tile.url))]
            iris.wait_streaming(ids, min_fps=0.8 * args.fps, timeout=180)
            with sync_playwright() as playwright:
                browser = launch(playwright)
                try:
                    measured = spa_latency(browser, iris, ids[0], args)
                    print(f"latency median {measured.median:.3f} s", flush=True)
                    cpu = browser_cpu(browser, iris, ids[1], args)
                finally:
                    browser.close()
        except BaseException:
            print(iris.log_tail(), flush=True)
            raise
        finally:
            iris.stop()
            camera.stop()
            tile.stop()
    report = render(args, measured, cpu)
    print(report)
    print(f"written to {write_report('live_latency', report)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
