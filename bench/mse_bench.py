"""Live fragmented MP4 against MJPEG: camera and ingress CPU, viewers served under saturation.

A running Iris (`iris up`, no detector weights: cameras trigger on motion) with 4 RTSP cameras
(720p at ``--fps`` with AAC sound, one RTSP server). Viewers are HTTP clients in this process.
All figures come from one run:

1. **Camera actor CPU**, one 720p camera at ``--camera-fps`` alone, with 5 MSE viewers against
   none (``--rounds`` pairs of windows, their order swapped every pair; the median of the
   pairs' ratios). The camera remuxes packets it already has: target ≤ 1.05×.
2. **Ingress CPU** (`ServeReplica:<app>:Ingress` + `ProxyActor`): 1 MSE viewer on 1 camera;
   50 MSE viewers on 4 cameras; 50 MJPEG viewers on 4 cameras at the same frame rate
   (``?fps=`` the cameras' rate, `live_mjpeg_fps` raised to it). Targets: 50 MSE ≤ 0.25× of
   50 MJPEG, and ≤ 2× of 1 MSE viewer.
3. **Saturation**: the 50-viewer phases again while ``--burners`` processes spin on every core:
   viewers served (a frame in the window) and the lowest frame rate any viewer got. Viewers
   must degrade, never starve.

    .venv/bin/python -m bench.mse_bench [--viewers 50] [--cameras 4] [--fps 10] [--seconds 15]

Writes ``bench/out/mse.md``.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import tempfile
from pathlib import Path

import psutil

from bench.common import CpuMeter, table, write_report
from bench.iris_harness import BenchIris
from bench.live_viewers import INGRESS, MjpegViewers, MseViewers, Phase, measure
from bench.saturation import Burners
from iris.live.fmp4 import IDLE_S
from iris.serve.mse import LINGER_S
from tests.support.media import make_clip, to_annexb
from tests.support.rtsp import RtspServer

CAMERA_VIEWERS = 5


async def camera_rounds(iris: BenchIris, camera_id: int, args: argparse.Namespace,
                        ) -> tuple[list[float], list[float]]:
    """CPU cores of one camera's actor process without viewers and with 5, alternating.

    Each round measures both windows, in turn order swapped every round (so a drift of the
    box's load falls on both sides alike); after a watched window the next waits until the
    camera has certainly stopped muxing (the ingress lingers, then the camera idles out).
    """
    workers = iris.api().get("/api/system").json()["workers"]
    pid = next(int(w["pid"]) for w in workers if int(w["camera_id"]) == camera_id)
    meter = CpuMeter(lambda: [psutil.Process(pid)])
    idle, watched = [], []

    async def idle_window() -> None:
        meter.start()
        await asyncio.sleep(args.camera_seconds)
        idle.append(meter.stop().cores)

    async def watched_window() -> None:
        viewers = MseViewers(iris.base_url, [camera_id], CAMERA_VIEWERS)
        phase = await measure("camera", viewers, seconds=args.camera_seconds,
                              warmup=args.warmup, meters={"camera": meter})
        watched.append(phase.cores("camera"))
        await asyncio.sleep(LINGER_S + IDLE_S + 2)

    for round_ in range(args.rounds):
        for window in (idle_window, watched_window)[::1 if round_ % 2 == 0 else -1]:
            await window()
    return idle, watched


async def run(iris: BenchIris, ids: list[int], args: argparse.Namespace) -> dict[str, object]:
    meters = {"ingress": iris.cpu_meter(*INGRESS), "cameras": iris.cpu_meter("ray::CameraActor")}
    full = {"fps": float(args.fps)}

    async def phase(name: str, viewers: MjpegViewers | MseViewers) -> Phase:
        measured = await measure(name, viewers, seconds=args.seconds, warmup=args.warmup,
                                 meters=meters)
        print(f"{name}: {measured.served}/{measured.viewers} served, ingress "
              f"{measured.cores('ingress'):.3f} cores, min {measured.fps_min:.2f} fps",
              flush=True)
        return measured

    base = iris.base_url
    phases = [
        # The floor: the two processes' CPU with no viewer at all (event loops, Ray's own
        # wake-ups), measured the same way, so what the viewers add can be read off too.
        await phase("no viewer (idle floor)", MseViewers(base, ids, 0)),
        await phase("1 MSE viewer, 1 camera", MseViewers(base, ids[:1], 1)),
        await phase(f"{args.viewers} MSE viewers, {len(ids)} cameras",
                    MseViewers(base, ids, args.viewers)),
        await phase(f"{args.viewers} MJPEG viewers, {len(ids)} cameras, ?fps={args.fps}",
                    MjpegViewers(base, ids, args.viewers, full)),
    ]
    saturated = []
    with Burners(args.burners):
        saturated.append(await phase(f"saturated: {args.viewers} MJPEG viewers",
                                     MjpegViewers(base, ids, args.viewers, full)))
        saturated.append(await phase(f"saturated: {args.viewers} MSE viewers",
                                     MseViewers(base, ids, args.viewers)))
    return {"phases": phases, "saturated": saturated}


def render(args: argparse.Namespace, results: dict[str, object]) -> str:
    idle = results["idle"]
    watched = results["watched"]
    phases = results["phases"]
    saturated = results["saturated"]
    assert isinstance(idle, list) and isinstance(watched, list)
    assert isinstance(phases, list) and isinstance(saturated, list)
    # Each watched window against the idle one just before it: the box's load drifts.
    camera_ratio = statistics.median(w / i for w, i in zip(watched, idle, strict=True))
    floor, one, fifty, mjpeg = phases
    to_mjpeg = fifty.cpu["ingress"].total / mjpeg.cpu["ingress"].total
    # What the viewers themselves cost: each phase's ingress cores above the idle floor.
    base_cores = floor.cores("ingress")
    added = (max(0.0, fifty.cores("ingress") - base_cores)
             / max(1e-9, mjpeg.cores("ingress") - base_cores))
    to_one = fifty.cpu["ingress"].total / one.cpu["ingress"].total
    # Per frame delivered: on a loaded box the camera actors encode fewer JPEGs than asked, so
    # the MJPEG viewers get a lower rate than the MSE ones and the totals flatter MJPEG.
    per_frame = per_frame_ms(fifty) / max(per_frame_ms(mjpeg), 1e-9)

    def verdict(ratio: float, goal: float) -> str:
        return f"**{'met' if ratio <= goal else 'not met'}** ({ratio:.2f}×, goal ≤ {goal:g}×)"

    rows = []
    for phase in [*phases, *saturated]:
        ingress = phase.cpu["ingress"]
        proxy = ingress.by_label.get("ray::ProxyActor", 0.0) / ingress.seconds
        rows.append((phase.name, f"{phase.served}/{phase.viewers}", f"{ingress.cores:.3f}",
                     f"{ingress.cores - proxy:.3f} / {proxy:.3f}",
                     f"{phase.cores('cameras'):.3f}",
                     f"{phase.fps_mean:.2f} ({phase.fps_min:.2f})",
                     f"{per_frame_ms(phase):.3f}",
                     f"{phase.megabytes / phase.seconds:.1f}"))
    lines = [
        f"## Live MP4 against MJPEG ({args.viewers} viewers on {args.cameras} cameras, "
        f"720p{args.fps} with AAC)",
        "",
        f"Motion mode; windows of {args.seconds:g} s after {args.warmup:g} s of warm-up, one "
        "run. Ingress = `ServeReplica:iris:Ingress` + `ProxyActor` (user+sys CPU per second). "
        f"Saturated phases run with {args.burners} busy-looping processes beside Iris.",
        "",
        f"Camera actor: one 720p{args.camera_fps} camera with AAC, alone, "
        f"{args.rounds} pairs of {args.camera_seconds:g} s windows, which of the two comes first "
        "swapped every pair; ratio = median of each pair's ratio. Fragments reach the ingress "
        "pushed over TCP from the camera's ingest thread (`iris/live/push.py`).",
        "",
        table(["camera actor, one camera", "CPU (cores, median)", "ratio"], [
            ("no viewer (baseline)", f"{statistics.median(idle):.3f}", "1.00"),
            (f"{CAMERA_VIEWERS} MSE viewers", f"{statistics.median(watched):.3f}",
             f"**{camera_ratio:.2f}**")]),
        "",
        table(["phase", "viewers served", "ingress CPU (cores)", "replica / proxy (cores)",
               "camera actors (cores)", "fps per served viewer (min)",
               "ingress ms per frame delivered", "MB/s delivered"], rows),
        "",
        f"- Camera actor with {CAMERA_VIEWERS} MSE viewers vs none: "
        f"{verdict(camera_ratio, 1.05)} (rounds: idle "
        + ", ".join(f"{v:.3f}" for v in idle) + "; watched "
        + ", ".join(f"{v:.3f}" for v in watched) + ").",
        f"- Ingress, {args.viewers} MSE vs {args.viewers} MJPEG viewers: "
        f"{verdict(to_mjpeg, 0.25)}; per frame delivered "
        f"{verdict(per_frame, 0.25)} (MSE {fifty.fps_mean:.1f} fps per viewer, MJPEG "
        f"{mjpeg.fps_mean:.1f}).",
        f"- Ingress, {args.viewers} MSE vs {args.viewers} MJPEG viewers, counting only "
        f"what the viewers add above the idle floor ({base_cores:.3f} cores with no viewer): "
        f"{verdict(added, 0.25)}.",
        f"- Ingress, {args.viewers} MSE viewers vs 1: {verdict(to_one, 2.0)}.",
    ]
    for phase in [*phases, *saturated]:
        if phase.failures:
            lines.append(f"- {phase.name}: {len(phase.failures)} viewers failed "
                         f"({phase.failure_summary()}).")
    return "\n".join(lines) + "\n"


def per_frame_ms(phase: Phase) -> float:
    """Ingress CPU milliseconds per frame any viewer received."""
    return 1000 * phase.cpu["ingress"].total / max(1, sum(phase.frames))


def rtsp_camera(folder: Path, fps: int) -> RtspServer:
    """A 720p RTSP camera at `fps`, with AAC sound, looping a generated clip."""
    clip = make_clip(folder / "cam.mp4", seconds=10, fps=fps, size=(1280, 720), audio=True)
    return RtspServer(to_annexb(clip), audio_mp4=clip, fps=fps,
                      log_path=folder / "rtsp.log").start()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--viewers", type=int, default=50)
    parser.add_argument("--cameras", type=int, default=4)
    parser.add_argument("--fps", type=int, default=10, help="the cameras' frame rate")
    parser.add_argument("--seconds", type=float, default=15.0)
    parser.add_argument("--camera-fps", type=int, default=25,
                        help="frame rate of the camera whose actor CPU is measured")
    parser.add_argument("--camera-seconds", type=float, default=15.0)
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--warmup", type=float, default=3.0)
    parser.add_argument("--burners", type=int, default=psutil.cpu_count() or 2)
    args = parser.parse_args(argv)

    with tempfile.TemporaryDirectory(prefix="iris-bench-mse-") as tmp:
        folder = Path(tmp)
        servers = [rtsp_camera(folder / f"cam{fps}", fps) for fps in (args.camera_fps, args.fps)]
        iris = BenchIris(folder / "iris",
                         IRIS_LIVE_MAX_VIEWERS_PER_PRINCIPAL=str(args.viewers + 10),
                         IRIS_LIVE_MJPEG_FPS=str(args.fps))
        try:
            print(f"iris up healthy in {iris.start():.1f} s", flush=True)
            probe = iris.add_camera("probe", servers[0].url, faces_enabled=False,
                                    reid_enabled=False)
            iris.wait_streaming([probe], min_fps=0.8 * args.camera_fps, timeout=180)
            idle, watched = asyncio.run(camera_rounds(iris, probe, args))
            print(f"camera actor: idle {idle}, {CAMERA_VIEWERS} viewers {watched}", flush=True)
            iris.api().delete(f"/api/cameras/{probe}", timeout=120).raise_for_status()
            ids = [iris.add_camera(f"live-{i + 1}", servers[1].url, faces_enabled=False,
                                   reid_enabled=False) for i in range(args.cameras)]
            iris.wait_streaming(ids, min_fps=0.8 * args.fps, timeout=180)
            results = {"idle": idle, "watched": watched, **asyncio.run(run(iris, ids, args))}
        except BaseException:
            print(iris.log_tail(), flush=True)
            raise
        finally:
            iris.stop()
            for server in servers:
                server.stop()
    report = render(args, results)
    print(report)
    print(f"written to {write_report('mse', report)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
