"""Load benchmark: 200 concurrent clients for a minute against a running Iris, on loopback.

Starts `iris up` as its own process (fresh data dir, own port), adds a disabled camera (its
snapshot is the "no signal" JPEG), writes a real small MP4 and points a few hundred events at it,
then runs the mix of tests/support/load.py: `GET /api/events` pages, `GET /api/live/{id}/snapshot`
and `GET /api/events/{id}/clip` with Range requests (closed, open and suffix ranges). Every answer
is checked against what was seeded; the first seconds (connections opening) are not measured.

The baseline is the same requests, same clients and same data against a plain uvicorn process
serving the same FastAPI app (`iris.serve.api.create_api` over the same DB and data root, no Ray,
no Serve proxy), measured after Iris in the same run; the ratios say what Serve's proxy and
replica hops cost at 200 clients.

Reports p50/p99 per kind of request, overall req/s and errors, with the machine's load average
(other work on a shared box slows everything alike).

Run: `.venv/bin/python -m bench.load_bench [--quick]` (writes bench/out/load.md).
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass, replace
from pathlib import Path

import httpx

from bench.common import CpuMeter, CpuWindow, kill_tree, process_tree, self_cpu, write_report
from iris.db.engine import make_engine
from iris.settings import load_settings
from tests.integration.conftest import free_port
from tests.integration.iris_process import KEY, IrisProcess
from tests.support.load import KINDS, LoadResult, LoadTargets, run_load, seed_events
from tests.support.media import make_clip
from tests.support.wait import wait_for

START_ATTEMPTS = 3


@dataclass(frozen=True)
class Cpu:
    """CPU seconds (user + system) over the whole run, warm-up included."""

    server: CpuWindow
    client_seconds: float


@dataclass(frozen=True)
class Measured:
    """One server under the load: the answers, its CPU and the box's load around it."""

    result: LoadResult
    cpu: Cpu
    load_before: tuple[float, ...]
    load_after: tuple[float, ...]

    @property
    def ms_per_request(self) -> float:
        return self.cpu.server.total / max(1, self.result.requests) * 1000


def errors_text(result: LoadResult) -> str:
    return "none" if not result.errors else ", ".join(
        f"{why} ×{n}" for why, n in result.errors.most_common())


def overall(result: LoadResult) -> tuple[float, float]:
    """(p50, p99) ms over every measured request."""
    latencies = sorted(ms for stats in result.by_kind.values() for ms in stats.latencies_ms)
    if not latencies:
        return 0.0, 0.0
    last = len(latencies) - 1
    return latencies[round(0.50 * last)], latencies[round(0.99 * last)]


def ratio(ours: float, base: float) -> str:
    return f"**{ours / base:.2f}**" if base else "—"


def comparison(iris: Measured, plain: Measured) -> str:
    """Iris against the plain uvicorn app: throughput, latency and CPU per request."""
    (i50, i99), (p50, p99) = overall(iris.result), overall(plain.result)
    return "\n".join([
        "| figure | plain uvicorn (baseline) | Iris (Serve proxy + ingress) | Iris / baseline |",
        "|---|---:|---:|---:|",
        f"| req/s | {plain.result.rate:.1f} | {iris.result.rate:.1f} | "
        f"{ratio(iris.result.rate, plain.result.rate)} |",
        f"| p50 ms | {p50:.1f} | {i50:.1f} | {ratio(i50, p50)} |",
        f"| p99 ms | {p99:.1f} | {i99:.1f} | {ratio(i99, p99)} |",
        f"| server CPU ms per request | {plain.ms_per_request:.1f} | "
        f"{iris.ms_per_request:.1f} | {ratio(iris.ms_per_request, plain.ms_per_request)} |",
        f"| errors | {errors_text(plain.result)} | {errors_text(iris.result)} | |",
    ])


def markdown(iris: Measured, plain: Measured | None, args: argparse.Namespace,
             clip_bytes: int) -> str:
    result, cpu = iris.result, iris.cpu
    load_before, load_after = iris.load_before, iris.load_after
    errors = errors_text(result)
    busiest = sorted(cpu.server.by_label.items(), key=lambda item: -item[1])[:4]
    per_request = iris.ms_per_request
    baseline: list[str] = []
    if plain is not None:
        baseline = [
            "Against the baseline — the same clients, mix and data on a plain uvicorn process "
            "serving the same FastAPI app (`create_api`, same DB and data root, no Ray, no "
            "access log), run right after Iris stopped (req/s: below 1 is Iris slower; "
            "latency and CPU: above 1 is Iris dearer):",
            "",
            comparison(iris, plain),
            "",
            "Baseline by request:",
            "",
            plain.result.table(),
            "",
        ]
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
        *baseline,
    ])


def measure(base_url: str, pid: int, targets: LoadTargets, args: argparse.Namespace
            ) -> Measured:
    """The load against ``base_url``; CPU of ``pid``'s process tree over the run."""
    server = CpuMeter(lambda: process_tree(pid))
    load_before = os.getloadavg()
    server.start()
    client_before = self_cpu()
    result = run_load(base_url, {"Authorization": f"Bearer {KEY}"}, targets.plan,
                      clients=args.clients, duration_s=args.seconds, warmup_s=args.warmup,
                      seed=args.seed)
    cpu = Cpu(server=server.stop(), client_seconds=self_cpu() - client_before)
    return Measured(result, cpu, load_before, os.getloadavg())


def plain_server(data_dir: Path, port: int) -> None:
    """The baseline's process: Iris's FastAPI app on uvicorn, no Ray (until killed)."""
    import uvicorn

    from iris.serve.api import create_api

    settings = load_settings(data_dir=data_dir, api_key=KEY, port=port)
    uvicorn.run(create_api(settings), host="127.0.0.1", port=port, log_level="warning",
                access_log=False)


def plain_run(data_dir: Path, targets: LoadTargets, args: argparse.Namespace) -> Measured:
    port = free_port()
    proc = subprocess.Popen([sys.executable, "-m", "bench.load_bench", "--plain-server",
                             str(data_dir), "--port", str(port)], start_new_session=True)
    base_url = f"http://127.0.0.1:{port}"

    def healthy() -> bool:
        assert proc.poll() is None, "the plain uvicorn baseline exited"
        try:
            return httpx.get(f"{base_url}/health", timeout=2).status_code == 200
        except httpx.TransportError:
            return False

    try:
        wait_for(healthy, 120, 0.25, "plain uvicorn baseline answering /health")
        return measure(base_url, proc.pid, targets, args)
    finally:
        kill_tree(proc.pid)
        proc.wait()


def run(args: argparse.Namespace) -> tuple[str, list[LoadResult]]:
    folder = Path(tempfile.mkdtemp(prefix="iris-bench-load-"))
    iris = IrisProcess(folder / "data", folder / "iris.log", IRIS_RAY_NUM_CPUS="4")
    try:
        for attempt in range(1, START_ATTEMPTS + 1):
            try:
                iris.start()
                break
            except AssertionError as exc:  # Ray gives its raylet 30 s: a loaded box misses it
                print(f"iris up: start {attempt} failed ({str(exc)[-300:]})", flush=True)
                iris.stop()
        else:
            raise RuntimeError(f"iris up did not start in {START_ATTEMPTS} attempts")
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
        ours = measure(iris.base_url, iris.proc.pid, targets, args)
        iris.stop()  # the baseline has the box to itself, as Iris had
        plain = plain_run(iris.data_dir, targets, args) if args.baseline else None
        report = markdown(ours, plain, args, len(targets.clip))
        return report, [ours.result] + ([plain.result] if plain is not None else [])
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
    parser.add_argument("--no-baseline", dest="baseline", action="store_false",
                        help="skip the plain uvicorn baseline")
    parser.add_argument("--quick", action="store_true", help="20 s measured, 3 s warm-up")
    parser.add_argument("--plain-server", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--port", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.plain_server:
        plain_server(args.plain_server, args.port)
        return 0
    if args.quick:
        args.seconds, args.warmup = 20.0, 3.0
    report, results = run(args)
    print(report)
    print(f"written to {write_report(args.name, report)}")
    return 1 if results[0].errors else 0  # Iris's answers are checked; the baseline's shown


if __name__ == "__main__":
    raise SystemExit(main())
