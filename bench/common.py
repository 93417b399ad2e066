"""What several benchmarks share: CPU accounting over process trees, the benchmark model, reports.

CPU is always user + system seconds from the kernel (psutil), summed over the processes that do
the work, so a figure does not depend on how busy the shared box was — only on the work done.
"""

from __future__ import annotations

import contextlib
import os
import re
import time
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

import psutil

OUT_DIR = Path(__file__).resolve().parent / "out"
MODEL_DIR = OUT_DIR / "models"


def write_report(name: str, text: str) -> Path:
    """Write ``bench/out/<name>.md`` (the table `bench.run` collects) and return its path."""
    path = OUT_DIR / f"{name}.md"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text.rstrip("\n") + "\n")
    return path


def benchmark_model(imgsz: int = 320) -> Path:
    """The yolo11n architecture with random weights as ONNX, built once and kept in bench/out.

    It costs exactly what the trained yolo11n costs and detects nothing (see DESIGN.md).
    """
    from iris.models.standins import build_benchmark_detector

    path = MODEL_DIR / f"yolo11n-random-{imgsz}.onnx"
    if not path.is_file():
        partial = MODEL_DIR / "building" / path.name
        build_benchmark_detector(partial, imgsz=imgsz)
        partial.replace(path)
    return path


# ----------------------------------------------------------------------------- processes
def process_tree(pid: int) -> list[psutil.Process]:
    """``pid`` and every process below it (Ray's workers are children of the raylet)."""
    try:
        root = psutil.Process(pid)
        return [root, *root.children(recursive=True)]
    except psutil.NoSuchProcess:
        return []


def matching(processes: Iterable[psutil.Process], *needles: str) -> list[psutil.Process]:
    """The processes whose command line contains any of ``needles``."""
    found = []
    for process in processes:
        with contextlib.suppress(psutil.Error):
            line = " ".join(process.cmdline())
            if any(needle in line for needle in needles):
                found.append(process)
    return found


_RAY_TITLE = re.compile(r"^ray::([A-Za-z_][\w:-]*)")


def process_label(process: psutil.Process) -> str:
    """A short, stable name: `ray::CameraActor`, `ray::ServeReplica:iris-detector:Detector`,
    `raylet`."""
    try:
        line = process.cmdline()
        name = process.name()
    except psutil.Error:
        return "gone"
    first = line[0] if line else name
    title = _RAY_TITLE.match(first)
    if title:  # setproctitle: "ray::CameraActor.latest_jpeg()" while a method runs
        return "ray::" + title.group(1).split(".")[0]
    if "iris.cli" in line:
        return "iris up (driver)"
    for part in line[:3]:
        base = os.path.basename(part)
        if base.endswith(".py") or base in {"raylet", "gcs_server"}:
            return base
    return name


def kill_tree(pid: int, timeout: float = 15.0) -> None:
    """SIGKILL ``pid`` and everything below it, collected first (Ray re-parents nothing)."""
    tree = process_tree(pid)
    for process in reversed(tree):
        with contextlib.suppress(psutil.Error):
            process.kill()
    psutil.wait_procs(tree, timeout=timeout)


@dataclass
class CpuWindow:
    """CPU seconds of a set of processes over one measured window."""

    seconds: float
    total: float
    by_label: dict[str, float] = field(default_factory=dict)
    processes: int = 0
    vanished: int = 0

    @property
    def cores(self) -> float:
        """Average cores busy over the window."""
        return self.total / self.seconds if self.seconds else 0.0


class CpuMeter:
    """User + system CPU of the processes ``select()`` returns, between `start` and `stop`.

    A process that starts inside the window counts with all its CPU; one that exits inside it
    is lost (counted in ``vanished``) — the benchmarks keep their windows free of restarts.
    """

    def __init__(self, select: Callable[[], list[psutil.Process]]) -> None:
        self._select = select
        self._start: dict[tuple[int, float], float] = {}
        self._started_at = 0.0

    @staticmethod
    def _read(processes: list[psutil.Process]) -> dict[tuple[int, float], tuple[str, float]]:
        readings = {}
        for process in processes:
            with contextlib.suppress(psutil.Error):
                times = process.cpu_times()
                key = (process.pid, process.create_time())
                readings[key] = (process_label(process), times.user + times.system)
        return readings

    def start(self) -> None:
        self._start = {key: cpu for key, (_, cpu) in self._read(self._select()).items()}
        self._started_at = time.monotonic()

    def stop(self) -> CpuWindow:
        end = self._read(self._select())
        seconds = time.monotonic() - self._started_at
        by_label: dict[str, float] = defaultdict(float)
        for key, (label, cpu) in end.items():
            by_label[label] += cpu - self._start.get(key, 0.0)
        vanished = len(self._start.keys() - end.keys())
        return CpuWindow(seconds, sum(by_label.values()), dict(by_label), len(end), vanished)


def self_cpu() -> float:
    """CPU seconds of this process (all threads) so far."""
    times = psutil.Process().cpu_times()
    return times.user + times.system


def table(header: list[str], rows: Iterable[Iterable[object]]) -> str:
    """A markdown table; the first column left-aligned, the others right-aligned."""
    lines = ["| " + " | ".join(header) + " |",
             "|" + "|".join(["---"] + ["---:"] * (len(header) - 1)) + "|"]
    lines += ["| " + " | ".join(str(cell) for cell in row) + " |" for row in rows]
    return "\n".join(lines)
