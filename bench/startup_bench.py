"""Start-up: `iris up` to healthy, and camera create to first frame, against bare baselines.

Each figure is measured ``--runs`` times (default 3), alternating with its baseline in the same
run, and reported as the median:

- **`iris up` → `/health` 200** (fresh data dir, the benchmark yolo11n model configured), against
  a bare `ray.init(address="local")` + `serve.start()` in a subprocess → its HTTP proxy answers
  (with no application deployed, `/-/healthz` says 503 "Route table is not populated yet": any
  answer means Ray and the proxy are up). Both are polled the same way (every 0.25 s) from
  process launch.
- **camera create → first frame**: `POST /api/cameras` until `GET /api/live/{id}/snapshot` is
  no longer the "no signal" placeholder, against a bare PyAV open of the same RTSP stream →
  first decoded frame → JPEG, in this process.

`iris up`'s clean stop (SIGTERM → exit) is shown too.

    .venv/bin/python -m bench.startup_bench [--runs 3]

Writes ``bench/out/startup.md``.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import av
import cv2
import httpx

from bench.common import benchmark_model, kill_tree, table, write_report
from bench.iris_harness import BenchIris
from iris.serve.placeholder import no_signal_jpeg
from tests.support.media import make_clip, to_annexb
from tests.support.rtsp import RtspServer, free_tcp_port
from tests.support.wait import wait_for

NUM_CPUS = 6  # what BenchIris gives `iris up`
POLL_S = 0.25  # IrisProcess polls /health at this interval; the baseline polls the same way
BARE_SERVE = """
import sys
import ray
from ray import serve
ray.init(address="local", num_cpus={num_cpus}, include_dashboard=False)
serve.start(http_options={{"host": "127.0.0.1", "port": {port}}})
sys.stdin.read()  # runs until the benchmark closes stdin; ray shuts down at exit
"""


def bare_serve_start(log: Path) -> tuple[float, float]:
    """Seconds from launch to the proxy answering HTTP, and to exit after stdin closes."""
    port = free_tcp_port()
    code = BARE_SERVE.format(num_cpus=NUM_CPUS, port=port)
    with log.open("ab") as out:
        started = time.monotonic()
        proc = subprocess.Popen([sys.executable, "-c", code], stdin=subprocess.PIPE,
                                stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        def healthy() -> bool:
            if proc.poll() is not None:
                raise RuntimeError(f"bare Serve exited {proc.returncode}: "
                                   f"{log.read_text(errors='replace')[-2000:]}")
            try:
                httpx.get(f"http://127.0.0.1:{port}/-/healthz", timeout=2)
            except httpx.TransportError:
                return False
            return True  # any status: the route table stays empty without an application

        wait_for(healthy, 240, POLL_S, "bare ray.init + serve.start answering")
        up = time.monotonic() - started
        stopping = time.monotonic()
        assert proc.stdin is not None
        proc.stdin.close()
        try:
            proc.wait(timeout=60)
        except subprocess.TimeoutExpired:
            kill_tree(proc.pid)
        return up, time.monotonic() - stopping
    finally:
        if proc.poll() is None:
            kill_tree(proc.pid)


def iris_start(folder: Path, model: Path, url: str) -> tuple[float, float, float]:
    """`iris up` → /health 200, camera create → first real snapshot, SIGTERM → exit (s)."""
    iris = BenchIris(folder, detector_model=model, num_cpus=NUM_CPUS)
    placeholder = no_signal_jpeg()
    try:
        up = iris.start()
        started = time.monotonic()
        camera_id = iris.add_camera("first-frame", url, faces_enabled=False, reid_enabled=False)

        def real_frame() -> bool:
            response = iris.api().get(f"/api/live/{camera_id}/snapshot")
            response.raise_for_status()
            return response.content != placeholder

        wait_for(real_frame, 120, 0.1, "first frame")
        first = time.monotonic() - started
    except BaseException:
        print(iris.log_tail(), flush=True)
        raise
    finally:
        stop = iris.stop()
    return up, first, stop


def bare_first_frame(url: str) -> float:
    """Open the stream with PyAV, decode the first frame, encode it as JPEG (seconds)."""
    started = time.monotonic()
    with av.open(url, options={"rtsp_transport": "tcp", "timeout": "10000000"}) as container:
        video = container.streams.video[0]
        for packet in container.demux(video):
            frames = packet.decode()
            if frames:
                ok, _ = cv2.imencode(".jpg", frames[0].to_ndarray(format="bgr24"))
                assert ok
                return time.monotonic() - started
    raise RuntimeError(f"{url}: stream ended before a frame")


def render(runs: int, samples: dict[str, list[float]]) -> str:
    def median(name: str) -> str:
        return f"{statistics.median(samples[name]):.2f}"

    def each(name: str) -> str:
        return ", ".join(f"{s:.2f}" for s in samples[name])

    def ratio(name: str, base: str) -> float:
        """Median of the per-run ratios: each run is paired with the baseline beside it."""
        return statistics.median(o / b for o, b in zip(samples[name], samples[base],
                                                       strict=True))

    rows = [
        ("bare `ray.init` + `serve.start` → proxy answers (baseline)", median("bare serve"),
         "1.00", each("bare serve")),
        ("`iris up` → `/health` 200", median("iris up"),
         f"**{ratio('iris up', 'bare serve'):.2f}**", each("iris up")),
        ("bare PyAV open → first frame as JPEG (baseline)", median("bare first"), "1.00",
         each("bare first")),
        ("camera create → first real snapshot", median("iris first"),
         f"**{ratio('iris first', 'bare first'):.2f}**", each("iris first")),
        ("bare Ray + Serve stop (stdin closed → exit) (baseline)", median("bare stop"), "1.00",
         each("bare stop")),
        ("`iris up` stop (SIGTERM → exit, 1 camera)", median("iris stop"),
         f"{ratio('iris stop', 'bare stop'):.2f}", each("iris stop")),
    ]
    return "\n".join([
        f"## Start-up (median of {runs} runs, seconds)",
        "",
        f"Fresh data dir each run, Ray with {NUM_CPUS} CPUs, the yolo11n benchmark model "
        "configured (the Detector loads it before `/health` answers); 720p25 RTSP camera. "
        "Each Iris run alternates with its baselines; ratio = median of the per-run ratios.",
        "",
        table(["figure", "median s", "ratio", "runs (s)"], rows),
        "",
    ])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args(argv)
    model = benchmark_model(320)
    samples: dict[str, list[float]] = {k: [] for k in (
        "bare serve", "bare stop", "iris up", "iris first", "iris stop", "bare first")}
    with tempfile.TemporaryDirectory(prefix="iris-bench-startup-") as tmp:
        folder = Path(tmp)
        clip = make_clip(folder / "cam.mp4", seconds=10, fps=25, size=(1280, 720), audio=False)
        server = RtspServer(to_annexb(clip), fps=25, log_path=folder / "rtsp.log").start()
        try:
            for run in range(args.runs):
                up, stop = bare_serve_start(folder / "bare-serve.log")
                samples["bare serve"].append(up)
                samples["bare stop"].append(stop)
                up, first, stop = iris_start(folder / f"iris-{run}", model, server.url)
                samples["iris up"].append(up)
                samples["iris first"].append(first)
                samples["iris stop"].append(stop)
                samples["bare first"].append(bare_first_frame(server.url))
                print(f"run {run + 1}: " + ", ".join(f"{k} {v[-1]:.2f}"
                                                     for k, v in samples.items()), flush=True)
        finally:
            server.stop()
    report = render(args.runs, samples)
    print(report)
    print(f"written to {write_report('startup', report)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
