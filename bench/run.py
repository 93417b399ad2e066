"""`make bench`: run every benchmark and write ``bench/RESULTS.md``.

Each benchmark runs as its own subprocess (one Ray cluster at a time) with a timeout; its output
goes to ``bench/out/<name>.log`` and its table to ``bench/out/<name>.md``, which is collected
here. A benchmark that fails or times out is reported with the end of its log; the others still
run. RESULTS.md records when and where it ran: CPU model, cores, RAM and the load average,
because the absolute figures move with the load of a shared box and only the ratios (every
figure is measured beside its baseline in the same run) compare across runs.

    .venv/bin/python -m bench.run [--only pipeline,mjpeg] [--skip gallery] [--full]

With ``--only`` or ``--skip`` the benchmarks not run keep their sections (and summary rows) from
the RESULTS.md already there, so one benchmark can be rerun without losing the others; the
header then says which ran when.

Exit status 0 when every benchmark succeeded, 1 otherwise (RESULTS.md is written either way).
"""

from __future__ import annotations

import argparse
import importlib.metadata
import os
import platform
import re
import subprocess
import sys
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import psutil

from bench.common import OUT_DIR, kill_tree, table

ROOT = Path(__file__).resolve().parent.parent
RESULTS = Path(__file__).resolve().parent / "RESULTS.md"
LOG_TAIL_LINES = 40


@dataclass(frozen=True)
class Bench:
    """One benchmark script: its module, arguments and time limit (quick and full)."""

    name: str
    module: str
    timeout_s: float
    full_args: tuple[str, ...] = ()
    full_timeout_s: float | None = None

    def command(self, full: bool) -> list[str]:
        return [sys.executable, "-m", self.module, *(self.full_args if full else ())]

    def timeout(self, full: bool) -> float:
        return (self.full_timeout_s or self.timeout_s) if full else self.timeout_s


BENCHES = (
    Bench("ingest", "bench.ingest_bench", 300),
    Bench("recording", "bench.recording_bench", 900),
    Bench("recording_index", "bench.recording_index_bench", 1800),
    Bench("clip", "bench.clip_bench", 900),
    Bench("detector", "bench.detector_bench", 900),
    Bench("motion_mask", "bench.motion_mask_bench", 300),
    Bench("events", "bench.events_bench", 900),
    Bench("gallery", "bench.gallery_bench", 900, ("--full",), 3600),
    Bench("idle", "bench.idle_bench", 1800),
    Bench("pipeline", "bench.pipeline_bench", 1200),
    Bench("capacity", "bench.capacity_bench", 1800),
    Bench("mjpeg", "bench.mjpeg_bench", 900),
    Bench("mse", "bench.mse_bench", 1800),
    Bench("live_latency", "bench.live_latency_bench", 600),
    Bench("notify", "bench.notify_bench", 900),
    Bench("startup", "bench.startup_bench", 900),
    Bench("load", "bench.load_bench", 600),
)


@dataclass
class Outcome:
    """What one benchmark run produced."""

    bench: Bench
    ok: bool
    status: str
    seconds: float
    load_before: float
    report: str | None
    log: Path

    def log_tail(self) -> str:
        if not self.log.is_file():
            return ""
        lines = self.log.read_text(errors="replace").splitlines()
        return "\n".join(line[:300] for line in lines[-LOG_TAIL_LINES:])


def run_bench(bench: Bench, *, full: bool, out_dir: Path = OUT_DIR) -> Outcome:
    """Run one benchmark to completion or timeout; never raises for its failure."""
    out_dir.mkdir(parents=True, exist_ok=True)
    report_path = out_dir / f"{bench.name}.md"
    report_path.unlink(missing_ok=True)  # a failed run must not show the last run's table
    log = out_dir / f"{bench.name}.log"
    load = os.getloadavg()[0]
    timeout = bench.timeout(full)
    started = time.monotonic()
    with log.open("wb") as handle:
        proc = subprocess.Popen(bench.command(full), cwd=ROOT, stdout=handle,
                                stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                start_new_session=True)
        try:
            code = proc.wait(timeout=timeout)
            status = "ok" if code == 0 else f"failed (exit {code})"
        except subprocess.TimeoutExpired:
            kill_tree(proc.pid)  # Ray's processes too: the next benchmark starts its own
            proc.wait()
            code, status = None, f"timed out after {timeout:.0f} s"
    seconds = time.monotonic() - started
    report = report_path.read_text() if report_path.is_file() else None
    if code == 0 and report is None:
        status = f"no report (bench/out/{report_path.name} missing)"
    return Outcome(bench, code == 0 and report is not None, status, seconds, load, report, log)


def shift_headings(markdown: str, top: int = 3) -> str:
    """Demote the report's headings so its highest becomes level ``top``."""
    levels = [len(m.group(1)) for m in re.finditer(r"^(#{1,6}) ", markdown, re.M)]
    if not levels:
        return markdown
    shift = top - min(levels)
    return re.sub(r"^(#{1,6}) ", lambda m: "#" * min(6, len(m.group(1)) + shift) + " ",
                  markdown, flags=re.M)


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def versions(*packages: str) -> str:
    found = []
    for package in packages:
        try:
            found.append(f"{package} {importlib.metadata.version(package)}")
        except importlib.metadata.PackageNotFoundError:
            continue
    return ", ".join(found)


def machine_table(load_start: tuple[float, float, float],
                  load_end: tuple[float, float, float]) -> str:
    memory = psutil.virtual_memory().total / 2**30
    rows = [
        ("CPU", cpu_model()),
        ("cores", f"{os.cpu_count()} logical, {psutil.cpu_count(logical=False)} physical"),
        ("RAM", f"{memory:.1f} GiB"),
        ("load average at start (1 / 5 / 15 min)", " / ".join(f"{v:.2f}" for v in load_start)),
        ("load average at end (1 / 5 / 15 min)", " / ".join(f"{v:.2f}" for v in load_end)),
        ("system", f"{platform.platform()}, Python {platform.python_version()}"),
        ("packages", versions("ray", "onnxruntime", "av", "faiss-cpu", "opencv-python",
                              "torch", "ultralytics", "fastapi", "sqlalchemy")),
    ]
    return "\n".join(["| | |", "|---|---|", *(f"| {k} | {v} |" for k, v in rows)])


@dataclass(frozen=True)
class Kept:
    """A benchmark not rerun: its summary row and section as the previous RESULTS.md had them."""

    name: str
    row: str
    section: str


def kept_sections(previous: str, names: set[str]) -> dict[str, Kept]:
    """The sections of `names` in a RESULTS.md written by `render` (those it has)."""
    parts = re.split(r"^## (\S+)\n", previous, flags=re.M)
    sections = {parts[i]: parts[i + 1] for i in range(1, len(parts) - 1, 2)}
    rows = {m.group(1): m.group(0) for m in re.finditer(r"^\| \[(\S+)\]\(#\S+\) \|.*$",
                                                        previous, re.M)}
    return {name: Kept(name, rows[name], sections[name].strip("\n"))  # render adds the gaps
            for name in names if name in sections and name in rows}


def render(outcomes: list[Outcome], *, started: datetime, minutes: float, full: bool,
           load_start: tuple[float, float, float],
           load_end: tuple[float, float, float], kept: dict[str, Kept] | None = None) -> str:
    kept = kept or {}
    ran = {o.bench.name: o for o in outcomes}
    known = [b.name for b in BENCHES]
    order = [n for n in known if n in ran or n in kept]
    order += [n for n in [*ran, *kept] if n not in known]  # only tests run others
    scope = "" if not kept else (
        f" This run: {', '.join(ran)}; the other sections are kept from earlier runs (their "
        "own lines say how long they took; the machine table is this run's).")
    lines = [
        "# Iris benchmark results",
        "",
        f"Written by `make bench` (`python -m bench.run{' --full' if full else ''}`), started "
        f"{started:%Y-%m-%d %H:%M} UTC, {minutes:.1f} min in all. Every figure is measured "
        "beside its baseline in the same run and reported as a ratio; this box is shared, so "
        "absolute values move with its load (below) and ratios much less." + scope,
        "",
        "## Machine",
        "",
        machine_table(load_start, load_end),
        "",
        "## Summary",
        "",
        _summary(order, ran, kept),
        "",
    ]
    for name in order:
        if name in kept:
            lines += [f"## {name}", "", kept[name].section, ""]
            continue
        outcome = ran[name]
        command = " ".join(outcome.bench.command(full)[1:])
        lines += [f"## {outcome.bench.name}", "",
                  f"`python {command}` — {outcome.status}, {outcome.seconds / 60:.1f} min.", ""]
        if outcome.report is not None:
            lines += [shift_headings(outcome.report).rstrip("\n"), ""]
        if not outcome.ok:
            lines += [f"Last lines of `bench/out/{outcome.log.name}`:", "", "```",
                      outcome.log_tail(), "```", ""]
    return "\n".join(lines)


def _summary(order: list[str], ran: dict[str, Outcome], kept: dict[str, Kept]) -> str:
    header = table(["benchmark", "status", "minutes", "1-min load at its start"], [
        (f"[{o.bench.name}](#{o.bench.name})", o.status if o.ok else f"**{o.status}**",
         f"{o.seconds / 60:.1f}", f"{o.load_before:.2f}") for o in ran.values()])
    lines = header.splitlines()
    rows = {name: line for name, line in zip(ran, lines[2:], strict=True)}
    rows.update({name: k.row for name, k in kept.items()})
    return "\n".join(lines[:2] + [rows[name] for name in order])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    names = [b.name for b in BENCHES]
    parser.add_argument("--only", help=f"comma-separated subset of {','.join(names)}")
    parser.add_argument("--skip", default="", help="comma-separated benchmarks to leave out")
    parser.add_argument("--full", action="store_true", help="full profiles (gallery 1M, …)")
    parser.add_argument("--out", type=Path, default=RESULTS)
    args = parser.parse_args(argv)
    wanted = set(args.only.split(",")) if args.only else set(names)
    wanted -= set(args.skip.split(","))
    unknown = wanted - set(names)
    if unknown:
        parser.error(f"unknown benchmark(s) {', '.join(sorted(unknown))}; known: "
                     f"{', '.join(names)}")

    started, clock = datetime.now(UTC), time.monotonic()
    load_start = os.getloadavg()
    outcomes = []
    for bench in BENCHES:
        if bench.name not in wanted:
            continue
        print(f"== {bench.name}: {' '.join(bench.command(args.full)[1:])} "
              f"(limit {bench.timeout(args.full):.0f} s)", flush=True)
        outcome = run_bench(bench, full=args.full)
        print(f"   {outcome.status} in {outcome.seconds:.0f} s", flush=True)
        outcomes.append(outcome)
    others = set(names) - wanted
    previous = args.out.read_text() if others and args.out.is_file() else ""
    text = render(outcomes, started=started, minutes=(time.monotonic() - clock) / 60,
                  full=args.full, load_start=load_start, load_end=os.getloadavg(),
                  kept=kept_sections(previous, others))
    args.out.write_text(text)
    print(f"written to {args.out}")
    return 0 if all(o.ok for o in outcomes) else 1


if __name__ == "__main__":
    raise SystemExit(main())
