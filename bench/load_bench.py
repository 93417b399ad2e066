"""Load benchmark: 200 concurrent clients for a minute against a running Iris, on loopback.

Starts `iris up` as its own process (fresh data dir, own port), adds a disabled camera (its
snapshot is the "no signal" JPEG), writes a real small MP4 and points a few hundred events at it,
then runs the mix of tests/support/load.py: `GET /api/events` pages, `GET /api/live/{id}/snapshot`
and `GET /api/events/{id}/clip` with Range requests (closed, open and suffix ranges). Every answer
is checked against what was seeded; the first seconds (connections opening) are not measured.

Reports p50/p99 per kind of request, overall req/s and errors, with the machine's load average
(other work on a shared box slows everything alike).

Run: `.venv/bin/python -m bench.load_bench` (writes bench/out/load.md).
"""

from __future__ import annotations

import argparse
import os
import shutil
import tempfile
from dataclasses import dataclass, replace
from pathlib import Path

from bench.common import CpuMeter, CpuWindow, process_tree, self_cpu, write_report
from iris.db.engine import make_engine
from iris.settings import load_settings
from tests.integration.iris_process import KEY, IrisProcess
from tests.support.load import KINDS, LoadResult, run_load, seed_events
from tests.support.media import make_clip


@dataclass(frozen=True)
class Cpu:
    """CPU seconds (user + system) over the whole run, warm-up included."""

    server: CpuWindow
    client_seconds: float


def markdown(result: LoadResult, args: argparse.Namespace, clip_bytes: int, cpu: Cpu,
             load_before: tuple[float, ...], load_after: tuple[float, ...]) -> str:
    errors = "none" if not result.errors else ", ".join(
        f"{why} ×{n}" for why, n in result.errors.most_common())
    busiest = sorted(cpu.server.by_label.items(), key=lambda item: -item[1])[:4]
    per_request = cpu.server.total / max(1, result.requests) * 1000
    return "\n".join([
        "# Load benchmark",
        "",
        f"{args.clients} concurrent clients (asyncio + httpx, one request at a time each) for "
        f"{result.seconds:.0f} s after a {args.warmup:.0f} s warm-up, through the Serve proxy "
        f"of `iris up` on 127.0.0.1. Mix (equal weights): {', '.join(args.kinds)}. "
        f"{args.events} events on one disabled camera, all pointing at one "
        f"{clip_bytes / 1024:.0f} KiB MP4; SQLite.",
        "",
        result.table(),
        "",
        f"Overall: **{result.rate:.1f} req/s**, {result.requests} requests, errors: {errors}.",
        "",
        f"CPU over the run (warm-up included): Iris {cpu.server.total:.1f} s "
        f"(≈{per_request:.1f} ms per measured request; "
        + ", ".join(f"{label} {seconds:.1f} s" for label, seconds in busiest)
        + f"), load client {cpu.client_seconds:.1f} s.",
        "",
        f"Machine: {os.cpu_count()} CPUs; load average (1/5/15 min) "
        f"{'/'.join(f'{x:.1f}' for x in load_before)} before, "
        f"{'/'.join(f'{x:.1f}' for x in load_after)} after. Client and server share the CPUs.",
        "",
    ])


def run(args: argparse.Namespace) -> tuple[str, LoadResult]:
    folder = Path(tempfile.mkdtemp(prefix="iris-bench-load-"))
    iris = IrisProcess(folder / "data", folder / "iris.log", IRIS_RAY_NUM_CPUS="4")
    try:
        iris.start()
        with iris.client() as client:
            created = client.post("/api/cameras", json={
                "name": "load", "enabled": False, "rtsp_url": "rtsp://127.0.0.1:9/load"})
            created.raise_for_status()
            camera_id = int(created.json()["id"])
        settings = load_settings(data_dir=iris.data_dir)
        clip = make_clip(settings.root / "clips" / str(camera_id) / "load.mp4", seconds=2,
                         fps=15, size=(320, 240))
        targets = replace(seed_events(make_engine(settings.resolved_database_url),
                                      settings.root, camera_id, clip, args.events),
                          kinds=tuple(args.kinds))
        assert iris.proc is not None
        pid = iris.proc.pid
        server = CpuMeter(lambda: process_tree(pid))  # `iris up` and all Ray processes below
        load_before = os.getloadavg()
        server.start()
        client_before = self_cpu()
        result = run_load(iris.base_url, {"Authorization": f"Bearer {KEY}"}, targets.plan,
                          clients=args.clients, duration_s=args.seconds, warmup_s=args.warmup,
                          seed=args.seed)
        cpu = Cpu(server=server.stop(), client_seconds=self_cpu() - client_before)
        load_after = os.getloadavg()
        return markdown(result, args, len(targets.clip), cpu, load_before, load_after), result
    finally:
        iris.stop()
        shutil.rmtree(folder, ignore_errors=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=200)
    parser.add_argument("--seconds", type=float, default=60.0, help="measured window")
    parser.add_argument("--warmup", type=float, default=5.0, help="not measured")
    parser.add_argument("--events", type=int, default=500)
    parser.add_argument("--kinds", nargs="+", choices=KINDS, default=list(KINDS))
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--name", default="load", help="report: bench/out/<name>.md")
    args = parser.parse_args(argv)
    report, result = run(args)
    print(report)
    print(f"written to {write_report(args.name, report)}")
    return 1 if result.errors else 0


if __name__ == "__main__":
    raise SystemExit(main())
