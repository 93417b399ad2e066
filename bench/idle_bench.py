"""Idle cost of Iris: CPU per process and memory (PSS) with no camera, 1 and 2, vs bare Ray.

Each system runs as its own process tree and is measured over the same window in this run:

- **platform** (baseline): a bare `ray.init(address="local")` + `serve.start()` with one
  trivial deployment, Ray's defaults (the cost of the platform Iris stands on), and the same
  with Iris's one-box tuning (`iris/ray_tuning.py`);
- **Iris**: `iris up` on a fresh data dir, no camera; then one, then two 720p25 RTSP cameras
  watching a still scene (decode, recording, motion gate; the Detector loaded, never called);
- **variants** (unless ``--no-variants``): `iris up` idle with one tuning undone each (Ray's default
  back), so each change's effect on idle cores, PSS and start-up is measured, not assumed.

CPU = user+sys seconds per second of every process in the tree, by process name; memory =
PSS (`psutil` `memory_full_info().pss`: shared pages split between their users) summed over
the tree at the end of the window.

    .venv/bin/python -m bench.idle_bench [--seconds 60] [--variant-seconds 30] [--no-variants]
        [--cameras 2] [--quick]

Writes ``bench/out/idle.md``.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

import psutil

from bench.common import (
    CpuMeter,
    CpuWindow,
    benchmark_model,
    kill_tree,
    process_label,
    process_tree,
    table,
    write_report,
)
from bench.iris_harness import BenchIris
from iris.ray_tuning import ONE_BOX_ENV, RAY_DEFAULTS
from tests.support.wait import wait_for

GIB = 2**30
MIB = 2**20
NUM_CPUS = 6  # what BenchIris gives Ray; the platform baseline gets the same
TARGET_CORES = 0.05
TARGET_PSS_GIB = 1.0


# ----------------------------------------------------------------------------- measuring
@dataclass
class Phase:
    """One system measured over one window: CPU by process name, PSS by process name."""

    name: str
    cpu: CpuWindow
    pss: dict[str, int] = field(default_factory=dict)  # bytes, summed per label
    count: dict[str, int] = field(default_factory=dict)  # processes per label
    startup_s: float | None = None

    @property
    def cores(self) -> float:
        return self.cpu.cores

    @property
    def pss_total(self) -> int:
        return sum(self.pss.values())

    @property
    def processes(self) -> int:
        return sum(self.count.values())


def pss_by_label(readings: Iterable[tuple[str, int]]) -> tuple[dict[str, int], dict[str, int]]:
    """(PSS bytes per label, processes per label) from (label, pss) readings."""
    pss: Counter[str] = Counter()
    count: Counter[str] = Counter()
    for label, value in readings:
        pss[label] += value
        count[label] += 1
    return dict(pss), dict(count)


def read_pss(processes: list[psutil.Process]) -> list[tuple[str, int]]:
    readings = []
    for process in processes:
        with contextlib.suppress(psutil.Error):
            readings.append((process_label(process), int(process.memory_full_info().pss)))
    return readings


def settled(pid: int) -> bool:
    """No worker Ray prestarted is still idle (they leave within seconds, or stay forever)."""
    return not any(process_label(p).startswith("ray::IDLE") for p in process_tree(pid))


def measure(name: str, pid: int, seconds: float, warmup: float,
            startup_s: float | None = None) -> Phase:
    """CPU of ``pid``'s tree over ``seconds`` after ``warmup``; PSS at the end."""
    with contextlib.suppress(AssertionError):  # a pool Ray keeps is part of the cost
        wait_for(lambda: settled(pid), 30, 0.5, "prestarted workers gone")
    time.sleep(warmup)  # start-up work (imports, first reconcile) is not idle cost
    meter = CpuMeter(lambda: process_tree(pid))
    meter.start()
    time.sleep(seconds)  # the measured window
    window = meter.stop()
    pss, count = pss_by_label(read_pss(process_tree(pid)))
    print(f"  {name}: {window.cores:.3f} cores, {sum(pss.values()) / GIB:.2f} GiB PSS, "
          f"{sum(count.values())} processes", flush=True)
    return Phase(name, window, pss, count, startup_s)


# ----------------------------------------------------------------------------- platform
def platform_child(tuned: bool) -> None:
    """The baseline's own process: bare Ray + Serve + one trivial deployment until stdin ends."""
    from iris.runner import require_ray_token_auth

    require_ray_token_auth()  # Iris's Ray runs with token auth; so does its baseline
    if tuned:
        from iris.ray_tuning import apply_one_box_env

        apply_one_box_env()
    import ray
    from ray import serve

    @serve.deployment
    class Hello:
        def __call__(self, request: object) -> str:
            return "hello"

    try:
        ray.init(address="local", num_cpus=NUM_CPUS, include_dashboard=False)
    except Exception as exc:  # noqa: BLE001 - the parent retries; Ray's atexit may hang
        print(f"failed: {exc}", flush=True)
        os._exit(1)
    serve.start(http_options={"host": "127.0.0.1", "port": free_port()})
    serve.run(Hello.bind(), name="hello", route_prefix="/")  # type: ignore[attr-defined]
    print("ready", flush=True)
    sys.stdin.read()  # the parent closes it to stop us
    serve.shutdown()
    ray.shutdown()


def free_port() -> int:
    from tests.support.rtsp import free_tcp_port

    return free_tcp_port()


START_ATTEMPTS = 3
"""Ray gives its raylet a fixed 30 s to register; on a box loaded far beyond its cores that
is sometimes too little, and a start is retried (the window measures only what started)."""


def platform_run(tuned: bool, seconds: float, warmup: float) -> Phase:
    name = "bare Ray + Serve, Iris's one-box tuning" if tuned else \
        "bare Ray + Serve, Ray's defaults (baseline)"
    env = {**os.environ, **({} if tuned else RAY_DEFAULTS)}
    for attempt in range(1, START_ATTEMPTS + 1):
        started = time.monotonic()
        proc = subprocess.Popen([sys.executable, "-m", "bench.idle_bench", "--platform",
                                 "tuned" if tuned else "default"], stdin=subprocess.PIPE,
                                stdout=subprocess.PIPE, env=env, start_new_session=True)
        try:
            assert proc.stdout is not None and proc.stdin is not None
            line = proc.stdout.readline()
            if b"ready" in line:
                startup = time.monotonic() - started
                return measure(name, proc.pid, seconds, warmup, startup)
            print(f"  {name}: start {attempt} failed ({line!r})", flush=True)
        finally:
            stop_platform(proc)
    raise RuntimeError(f"{name} did not start in {START_ATTEMPTS} attempts")


def stop_platform(proc: subprocess.Popen[bytes]) -> None:
    if proc.stdin is not None:
        with contextlib.suppress(OSError):
            proc.stdin.close()
    try:
        proc.wait(timeout=60)
    except subprocess.TimeoutExpired:
        kill_tree(proc.pid)
        proc.wait()


def start_iris(iris: BenchIris) -> float:
    """`iris up` → `/health`, retried like the platform's start; seconds of the last try."""
    for attempt in range(1, START_ATTEMPTS + 1):
        try:
            return iris.start()
        except AssertionError as exc:  # `iris up` exited or never answered
            print(f"  iris up: start {attempt} failed ({str(exc)[-300:]})", flush=True)
            iris.stop()
    raise RuntimeError(f"iris up did not start in {START_ATTEMPTS} attempts")


# ----------------------------------------------------------------------------- Iris
#: Each tuning undone alone: (what the row says, env for `iris up`).
VARIANTS: tuple[tuple[str, dict[str, str]], ...] = (
    ("Serve control loop every 0.1 s (Ray's default)",
     {"RAY_SERVE_CONTROL_LOOP_INTERVAL_S": RAY_DEFAULTS["RAY_SERVE_CONTROL_LOOP_INTERVAL_S"]}),
    ("Ray metrics every 10 s (Ray's default)",
     {"RAY_metrics_report_interval_ms": RAY_DEFAULTS["RAY_metrics_report_interval_ms"]}),
    ("log monitor globbing every 0.1 s (Ray's default)",
     {k: RAY_DEFAULTS[k] for k in ("RAY_LOG_MONITOR_MANY_FILES_THRESHOLD",
                                   "LOG_NAME_UPDATE_INTERVAL_S")}),
    ("Ray event-loop stats on (Ray's default)",
     {"RAY_event_stats": RAY_DEFAULTS["RAY_event_stats"]}),
    ("every Ray default above", dict(RAY_DEFAULTS)),
    ("Ray dashboard on (`dashboard: true`)", {"IRIS_DASHBOARD": "true"}),
)


def iris_idle(folder: Path, name: str, model: Path, seconds: float, warmup: float,
              env: dict[str, str]) -> Phase:
    iris = BenchIris(folder, detector_model=model, num_cpus=NUM_CPUS, **env)
    try:
        startup = start_iris(iris)
        return measure(name, iris.pid, seconds, warmup, startup)
    except BaseException:
        print(iris.log_tail(), flush=True)
        raise
    finally:
        iris.stop()


def iris_with_cameras(folder: Path, model: Path, cameras: int, seconds: float,
                      warmup: float) -> list[Phase]:
    """`iris up` idle, then with 1 … ``cameras`` still-scene cameras, each measured."""
    from tests.support.media import make_clip, to_annexb
    from tests.support.rtsp import RtspServer

    clip = make_clip(folder / "still.mp4", seconds=10, fps=25, size=(1280, 720), audio=False,
                     moving=False)
    server = RtspServer(to_annexb(clip), fps=25, log_path=folder / "rtsp.log").start()
    iris = BenchIris(folder / "iris", detector_model=model, num_cpus=NUM_CPUS)
    phases = []
    try:
        startup = start_iris(iris)
        phases.append(measure("Iris, no camera", iris.pid, seconds, warmup, startup))
        ids: list[int] = []
        for n in range(1, cameras + 1):
            ids.append(iris.add_camera(f"still-{n}", server.url, faces_enabled=False,
                                       reid_enabled=False))
            iris.wait_streaming(ids, min_fps=20, timeout=180)
            phases.append(measure(f"Iris, {n} camera{'s' if n > 1 else ''}", iris.pid,
                                  seconds, warmup))
    except BaseException:
        print(iris.log_tail(), flush=True)
        raise
    finally:
        iris.stop()
        server.stop()
    return phases


# ----------------------------------------------------------------------------- report
def gib(value: int) -> str:
    return f"{value / GIB:.2f}"


def ratio(value: float, base: float) -> str:
    return f"{value / base:.2f}" if base else "—"


def render(args: argparse.Namespace, baseline: Phase, tuned: Phase, iris: list[Phase],
           variants: list[Phase]) -> str:
    idle = iris[0]
    lines = [
        "# Idle cost",
        "",
        f"Every system as its own process tree on this box, measured {args.seconds:.0f} s "
        f"after a {args.warmup:.0f} s settle, in the same run. CPU = user+sys per second over "
        "the tree (cores); memory = PSS summed over the tree at the end of the window. "
        f"Ray gets {NUM_CPUS} logical CPUs, token auth, no dashboard unless said. Cameras: "
        "720p25 H.264 over RTSP, a still scene (decode, recording, motion gate; the Detector "
        "is loaded and not called), faces and re-ID off.",
        "",
        table(["system", "cores", "vs baseline", "PSS GiB", "vs baseline", "processes",
                  "start s"], [
            (p.name, f"{p.cores:.3f}", ratio(p.cores, baseline.cores), gib(p.pss_total),
             ratio(p.pss_total, baseline.pss_total), p.processes,
             f"{p.startup_s:.1f}" if p.startup_s is not None else "—")
            for p in (baseline, tuned, *iris)]),
        "",
    ]
    if len(iris) > 1:
        rows = []
        for before, after in zip(iris, iris[1:], strict=False):
            rows.append((f"{before.name} → {after.name}", f"{after.cores - before.cores:.3f}",
                         f"{(after.pss_total - before.pss_total) / MIB:.0f}"))
        last = iris[-1]
        n = len(iris) - 1
        rows.append((f"mean per camera (0 → {n})", f"{(last.cores - idle.cores) / n:.3f}",
                     f"{(last.pss_total - idle.pss_total) / n / MIB:.0f}"))
        lines += ["Per added camera (the first one also starts the Detector and Embedder "
                  "replicas):", "",
                  table(["step", "cores added", "PSS MiB added"], rows), ""]
    labels = sorted(set(idle.cpu.by_label) | set(idle.pss),
                    key=lambda label: -idle.cpu.by_label.get(label, 0.0))
    lines += [
        "Iris with no camera, by process (the baseline's own figures beside it where it has "
        "that process):",
        "",
        table(["process", "n", "cores", "PSS MiB", "baseline cores", "baseline PSS MiB"], [
            (label, idle.count.get(label, 0),
             f"{idle.cpu.by_label.get(label, 0.0) / idle.cpu.seconds:.4f}",
             f"{idle.pss.get(label, 0) / MIB:.0f}",
             f"{baseline.cpu.by_label[label] / baseline.cpu.seconds:.4f}"
             if label in baseline.cpu.by_label else "—",
             f"{baseline.pss[label] / MIB:.0f}" if label in baseline.pss else "—")
            for label in labels]),
        "",
    ]
    if variants:
        shipped = variants[0]
        lines += [
            f"Each tuning undone alone (`iris up` idle, no camera, {args.variant_seconds:.0f} s "
            "each; ratios against Iris as shipped, measured the same way in the same run):",
            "",
            table(["Iris idle", "cores", "vs shipped", "PSS GiB", "vs shipped",
                      "processes", "start s"], [
                (p.name, f"{p.cores:.3f}", ratio(p.cores, shipped.cores), gib(p.pss_total),
                 ratio(p.pss_total, shipped.pss_total), p.processes,
                 f"{p.startup_s:.1f}" if p.startup_s is not None else "—")
                for p in variants]),
            "",
            "Tuning as shipped (`iris/ray_tuning.py`): " + ", ".join(
                f"`{key}={value}`" for key, value in ONE_BOX_ENV.items()) + ".",
            "",
        ]
    met_cpu = "met" if idle.cores <= TARGET_CORES else "**not met**"
    met_pss = "met" if idle.pss_total <= TARGET_PSS_GIB * GIB else "**not met**"
    lines += [
        f"- Idle Iris ≤ {TARGET_CORES} cores: {met_cpu} ({idle.cores:.3f}; the bare platform "
        f"alone {baseline.cores:.3f}, tuned {tuned.cores:.3f}).",
        f"- Idle Iris ≤ {TARGET_PSS_GIB:.1f} GiB PSS: {met_pss} ({gib(idle.pss_total)} GiB; "
        f"the bare platform {gib(baseline.pss_total)}).",
        "",
    ]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=60.0, help="measured window")
    parser.add_argument("--warmup", type=float, default=10.0, help="settle before each window")
    parser.add_argument("--cameras", type=int, default=2)
    parser.add_argument("--variant-seconds", type=float, default=30.0,
                        help="measured window of each variant")
    parser.add_argument("--no-variants", dest="variants", action="store_false",
                        help="skip Iris idle with each tuning undone")
    parser.add_argument("--quick", action="store_true",
                        help="15 s windows (variants 10 s), 5 s settle")
    parser.add_argument("--platform", choices=("default", "tuned"), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.platform:
        platform_child(args.platform == "tuned")
        return 0
    if args.quick:
        args.seconds, args.variant_seconds, args.warmup = 15.0, 10.0, 5.0
    model = benchmark_model(320)
    baseline = platform_run(False, args.seconds, args.warmup)
    tuned = platform_run(True, args.seconds, args.warmup)
    with tempfile.TemporaryDirectory(prefix="iris-bench-idle-") as tmp:
        folder = Path(tmp)
        iris = iris_with_cameras(folder, model, args.cameras, args.seconds, args.warmup)
        variants = []
        if args.variants:
            variants.append(iris_idle(folder / "shipped", "as shipped", model,
                                      args.variant_seconds, args.warmup, {}))
            for index, (name, env) in enumerate(VARIANTS):
                variants.append(iris_idle(folder / f"variant-{index}", name, model,
                                          args.variant_seconds, args.warmup, env))
    report = render(args, baseline, tuned, iris, variants)
    print(report)
    print(f"written to {write_report('idle', report)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
