"""MJPEG fan-out: ingress CPU for 50 viewers on 4 cameras against one viewer, same run.

A running Iris (`iris up`, no detector weights: cameras trigger on motion) with 4 RTSP cameras
(720p25, one RTSP server). Viewers are HTTP clients in this process reading
`GET /api/live/{id}/stream?fps=5` and counting the multipart parts they receive. The figure is
the CPU of the ingress — the Serve replica `ServeReplica:<app>:Ingress` plus the HTTP proxy
`ProxyActor` — per phase:

1. one viewer on one camera (the baseline),
2. 4 and 12 viewers spread over the 4 cameras (``--steps``: the same four pollers, less
   fan-out),
3. 50 viewers spread over the 4 cameras.

A viewer the ingress refuses is counted, not fatal: the phase reports how many were served.

The camera actors' CPU (JPEG encoding happens there, once per frame whatever the viewer count)
is shown beside it. Target: phase 3 ≤ 2× phase 1.

    .venv/bin/python -m bench.mjpeg_bench [--viewers 50] [--cameras 4] [--seconds 15]

Writes ``bench/out/mjpeg.md``.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import tempfile
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import httpx

from bench.common import CpuWindow, table, write_report
from bench.iris_harness import BenchIris
from iris.serve.live import BOUNDARY
from tests.integration.iris_process import KEY
from tests.support.media import make_clip, to_annexb
from tests.support.rtsp import RtspServer

MARKER = f"--{BOUNDARY}".encode()
SETTLE_S = 75.0
"""How long viewers may take to get going; above the ingress's 30 s DB-pool timeout."""
POOL_ERROR = "QueuePool limit"


@dataclass
class Phase:
    """One measured window: what the viewers received and what the ingress spent."""

    name: str
    viewers: int
    seconds: float
    ingress: CpuWindow
    camera_actors: CpuWindow
    parts: list[int]
    megabytes: float
    failures: list[str]

    @property
    def served(self) -> int:
        return sum(1 for p in self.parts if p > 0)

    @property
    def fps_mean(self) -> float:
        """Parts per second per viewer that was served."""
        served = [p for p in self.parts if p > 0]
        return statistics.fmean(served) / self.seconds if served else 0.0

    @property
    def fps_min(self) -> float:
        return min((p for p in self.parts if p > 0), default=0) / self.seconds


class Viewers:
    """``count`` MJPEG readers spread round-robin over ``camera_ids``; parts counted each."""

    def __init__(self, base_url: str, camera_ids: list[int], count: int, fps: float) -> None:
        self.urls = [f"{base_url}/api/live/{camera_ids[i % len(camera_ids)]}/stream"
                     for i in range(count)]
        self.fps = fps
        self.parts = [0] * count
        self.bytes = 0
        self.errors: dict[int, str] = {}

    def settled(self) -> bool:
        """Every viewer is past its prime frame and first poll, or has failed."""
        return all(p >= 3 or i in self.errors for i, p in enumerate(self.parts))

    async def _view(self, client: httpx.AsyncClient, index: int) -> None:
        tail = b""
        try:
            async with client.stream("GET", self.urls[index],
                                     params={"fps": self.fps}) as response:
                response.raise_for_status()
                async for chunk in response.aiter_raw():
                    self.bytes += len(chunk)
                    data = tail + chunk
                    self.parts[index] += data.count(MARKER)
                    tail = data[-(len(MARKER) - 1):]  # a marker split across two chunks
        except asyncio.CancelledError:
            raise
        except httpx.HTTPStatusError as exc:  # reported by the phase, not fatal
            self.errors[index] = f"HTTP {exc.response.status_code}"
        except Exception as exc:  # noqa: BLE001 - reported by the phase, not fatal
            self.errors[index] = type(exc).__name__

    async def run(self, client: httpx.AsyncClient) -> list[asyncio.Task[None]]:
        return [asyncio.create_task(self._view(client, i)) for i in range(len(self.urls))]


async def measure(iris: BenchIris, name: str, camera_ids: list[int], count: int, *,
                  fps: float, seconds: float, warmup: float) -> Phase:
    ingress = iris.cpu_meter("ServeReplica:iris:Ingress", "ProxyActor")
    cameras = iris.cpu_meter("ray::CameraActor")
    viewers = Viewers(iris.base_url, camera_ids, count, fps)
    limits = httpx.Limits(max_connections=count + 10, max_keepalive_connections=0)
    # A longer client timeout than any server-side one, so a refused viewer sees the answer.
    async with httpx.AsyncClient(headers={"Authorization": f"Bearer {KEY}"}, limits=limits,
                                 timeout=httpx.Timeout(SETTLE_S)) as client:
        tasks = await viewers.run(client)
        try:
            deadline = time.monotonic() + SETTLE_S
            while not viewers.settled() and time.monotonic() < deadline:
                await asyncio.sleep(0.2)
            await asyncio.sleep(warmup)
            parts0, bytes0 = list(viewers.parts), viewers.bytes
            ingress.start()
            cameras.start()
            await asyncio.sleep(seconds)
            window = ingress.stop()
            camera_window = cameras.stop()
            parts = [p - p0 for p, p0 in zip(viewers.parts, parts0, strict=True)]
            received = viewers.bytes - bytes0
        finally:
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
    await asyncio.sleep(3)  # the pollers notice their last viewer left and stop
    failures = list(viewers.errors.values())
    failures += ["no frame in time"] * sum(
        1 for i, p in enumerate(viewers.parts) if p == 0 and i not in viewers.errors)
    return Phase(name, count, window.seconds, window, camera_window, parts, received / 1e6,
                 failures)


def render(args: argparse.Namespace, phases: list[Phase], pool_errors: int) -> str:
    base = phases[0]
    rows = []
    for phase in phases:
        proxy = phase.ingress.by_label.get("ray::ProxyActor", 0.0) / phase.seconds
        rows.append((
            phase.name, f"{phase.served}/{phase.viewers}", f"{phase.ingress.cores:.3f}",
            f"**{phase.ingress.total / base.ingress.total:.2f}**",
            f"{phase.ingress.cores - proxy:.3f} / {proxy:.3f}",
            f"{phase.camera_actors.cores:.3f}",
            f"{phase.fps_mean:.2f} ({phase.fps_min:.2f})",
            f"{phase.megabytes / phase.seconds:.1f}",
            f"{1000 * phase.ingress.total / max(1, sum(phase.parts)):.2f}",
        ))
    last = phases[-1]
    ratio = last.ingress.total / base.ingress.total
    if last.failures:
        verdict = (f"**not met**: only {last.served} of {last.viewers} viewers were served "
                   f"({ratio:.2f}× for those)")
    else:
        verdict = f"**{'met' if ratio <= 2 else 'not met'}** ({ratio:.2f}×)"
    lines = [
        f"## MJPEG fan-out ({args.viewers} viewers on {args.cameras} cameras, ?fps={args.fps:g})",
        "",
        f"720p25 RTSP cameras, motion mode; each phase measured for {args.seconds:g} s after "
        f"{args.warmup:g} s warm-up, in the same run. Ingress CPU = `ServeReplica:iris:Ingress` "
        "+ `ProxyActor` processes (user+sys per second); ratio against one viewer. Camera "
        "actors encode the JPEGs (once per frame, whatever the number of viewers).",
        "",
        table(["phase", "viewers served", "ingress CPU (cores)", "vs 1 viewer",
               "replica / proxy (cores)", "camera actors CPU (cores)",
               "fps per served viewer (min)", "MB/s delivered", "ingress CPU ms per part"],
              rows),
        "",
        f"- Target ≤ 2× one viewer at {last.viewers} viewers: {verdict}.",
    ]
    for phase in phases:
        if phase.failures:
            kinds = Counter(phase.failures)
            lines.append(f"- {phase.name}: {len(phase.failures)} viewers failed ("
                         + ", ".join(f"{kind} ×{n}" for kind, n in kinds.most_common()) + ").")
    if pool_errors:
        lines.append(f"- The Iris log holds {pool_errors} × \"{POOL_ERROR} of size 5 overflow 10 "
                     "reached\": each open MJPEG stream keeps a pooled DB session.")
    return "\n".join(lines) + "\n"


async def run_phases(iris: BenchIris, camera_ids: list[int],
                     args: argparse.Namespace) -> list[Phase]:
    plan = [("1 viewer, 1 camera (baseline)", camera_ids[:1], 1)]
    for count in (int(n) for n in args.steps.split(",") if n):
        if 1 < count < args.viewers:
            plan.append((f"{count} viewers on {len(camera_ids)} cameras", camera_ids, count))
    plan.append((f"{args.viewers} viewers on {len(camera_ids)} cameras", camera_ids,
                 args.viewers))
    phases = []
    for name, ids, count in plan:
        phase = await measure(iris, name, ids, count, fps=args.fps, seconds=args.seconds,
                              warmup=args.warmup)
        print(f"{name}: {phase.served} served, ingress {phase.ingress.cores:.3f} cores, "
              f"{phase.fps_mean:.2f} fps/viewer", flush=True)
        phases.append(phase)
    return phases


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--viewers", type=int, default=50)
    parser.add_argument("--cameras", type=int, default=4)
    parser.add_argument("--fps", type=float, default=5.0, help="?fps= each viewer asks for")
    parser.add_argument("--seconds", type=float, default=15.0)
    parser.add_argument("--warmup", type=float, default=3.0)
    parser.add_argument("--steps", default="4,12",
                        help="viewer counts measured between 1 and --viewers")
    args = parser.parse_args(argv)

    with tempfile.TemporaryDirectory(prefix="iris-bench-mjpeg-") as tmp:
        folder = Path(tmp)
        clip = make_clip(folder / "cam.mp4", seconds=10, fps=25, size=(1280, 720), audio=False)
        server = RtspServer(to_annexb(clip), fps=25, log_path=folder / "rtsp.log").start()
        # All viewers share one API key: let it hold them all (the cap is not measured here).
        iris = BenchIris(folder / "iris", IRIS_LIVE_MAX_VIEWERS_PER_PRINCIPAL=str(args.viewers))
        try:
            print(f"iris up healthy in {iris.start():.1f} s", flush=True)
            ids = [iris.add_camera(f"live-{i + 1}", server.url, faces_enabled=False,
                                   reid_enabled=False) for i in range(args.cameras)]
            iris.wait_streaming(ids, min_fps=20, timeout=180)
            phases = asyncio.run(run_phases(iris, ids, args))
            pool_errors = iris.log_tail(chars=1 << 30).count(POOL_ERROR)
        except BaseException:
            print(iris.log_tail(), flush=True)
            raise
        finally:
            iris.stop()
            server.stop()
    report = render(args, phases, pool_errors)
    print(report)
    print(f"written to {write_report('mjpeg', report)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
