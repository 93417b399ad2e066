"""MJPEG fan-out: ingress CPU for 50 viewers on 4 cameras against one viewer, same run.

A running Iris (`iris up`, no detector weights: cameras trigger on motion) with 4 RTSP cameras
(720p25, one RTSP server). Viewers are HTTP clients in this process reading
`GET /api/live/{id}/stream?fps=5` and counting the multipart parts they receive. The figure is
the CPU of the ingress — the Serve replica `ServeReplica:<app>:Ingress` plus the HTTP proxy
`ProxyActor` — per phase:

1. one viewer on one camera (the baseline),
2. 4 and 12 viewers spread over the 4 cameras (``--steps``: the same four pollers, less
   fan-out),
3. 50 viewers spread over the 4 cameras,
4. the same 50 while ``--burners`` processes spin beside Iris (saturation: viewers must get
   fewer frames, never none).

A viewer the ingress refuses is counted, not fatal: the phase reports how many were served
(a frame in the window) and the lowest frame rate any viewer got.

The camera actors' CPU (JPEG encoding happens there, once per frame whatever the viewer count)
is shown beside it. Target: phase 3 ≤ 2× phase 1.

    .venv/bin/python -m bench.mjpeg_bench [--viewers 50] [--cameras 4] [--seconds 15]

Writes ``bench/out/mjpeg.md``.
"""

from __future__ import annotations

import argparse
import asyncio
import tempfile
from pathlib import Path

from bench.common import table, write_report
from bench.iris_harness import BenchIris
from bench.live_viewers import INGRESS, MjpegViewers, Phase, measure
from bench.saturation import Burners
from tests.support.media import make_clip, to_annexb
from tests.support.rtsp import RtspServer

POOL_ERROR = "QueuePool limit"


def render(args: argparse.Namespace, phases: list[Phase], pool_errors: int) -> str:
    base = phases[0].cpu["ingress"]
    rows = []
    for phase in phases:
        ingress = phase.cpu["ingress"]
        proxy = ingress.by_label.get("ray::ProxyActor", 0.0) / ingress.seconds
        rows.append((
            phase.name, f"{phase.served}/{phase.viewers}", f"{ingress.cores:.3f}",
            f"**{ingress.total / base.total:.2f}**",
            f"{ingress.cores - proxy:.3f} / {proxy:.3f}",
            f"{phase.cores('cameras'):.3f}",
            f"{phase.fps_mean:.2f} ({phase.fps_min:.2f})",
            f"{phase.megabytes / phase.seconds:.1f}",
            f"{1000 * ingress.total / max(1, sum(phase.frames)):.2f}",
        ))
    last = next(p for p in reversed(phases) if not p.name.startswith("saturated"))
    ratio = last.cpu["ingress"].total / base.total
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
        "actors encode the JPEGs (once per frame, whatever the number of viewers). The proxy "
        "fans the parts out itself (`iris.serve.relay`): the replica sees each stream open and "
        f"close only. The saturated phase runs with {args.burners} busy-looping processes "
        "beside Iris.",
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
            lines.append(f"- {phase.name}: {len(phase.failures)} viewers failed "
                         f"({phase.failure_summary()}).")
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
    meters = {"ingress": iris.cpu_meter(*INGRESS), "cameras": iris.cpu_meter("ray::CameraActor")}
    params = {"fps": args.fps}

    async def phase(name: str, ids: list[int], count: int) -> Phase:
        measured = await measure(name, MjpegViewers(iris.base_url, ids, count, params),
                                 seconds=args.seconds, warmup=args.warmup, meters=meters)
        print(f"{name}: {measured.served} served, ingress {measured.cores('ingress'):.3f} "
              f"cores, {measured.fps_mean:.2f} fps/viewer", flush=True)
        return measured

    phases = [await phase(name, ids, count) for name, ids, count in plan]
    if args.burners:
        with Burners(args.burners):
            phases.append(await phase(f"saturated: {args.viewers} viewers on "
                                      f"{len(camera_ids)} cameras", camera_ids, args.viewers))
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
    parser.add_argument("--burners", type=int, default=2,
                        help="busy-looping processes during a last, saturated phase (0: none)")
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
