"""The recording index at scale: its size and the latency of the queries the API and the
timeline make, at 30 days × 16 cameras of 6 s segments (6.9 M rows) against the same queries
over one camera-day (the baseline: a ratio near 1 means history does not slow them down).

Rows are written in bulk straight into SQLite (the schema is Iris's own); each query runs as
the API runs it (`iris.recording.queries`, `iris.recording.index`), median of several runs.

    .venv/bin/python -m bench.recording_index_bench [--days 30] [--cameras 16]
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from sqlalchemy.engine import Engine
from sqlmodel import Session

from bench.common import table, write_report
from iris.db.engine import make_engine
from iris.db.tables import Camera
from iris.layout import Layout
from iris.recording.index import segments_between
from iris.recording.queries import camera_stats, coverage, day_summary

SEGMENT_S = 6.0
DAY = 86400.0
EVENTS_PER_DAY = 100
RUNS = 7


def build(path: Path, *, days: int, cameras: int, now: float) -> Engine:
    """An Iris database holding `days` of continuous footage of `cameras` cameras."""
    engine = make_engine(f"sqlite:///{path}")
    with Session(engine) as session:
        for index in range(cameras):
            session.add(Camera(name=f"cam{index}", rtsp_url=f"rtsp://cam{index}/s"))
        session.commit()
    per_day = int(DAY / SEGMENT_S)
    raw = engine.raw_connection()
    try:
        cursor = raw.cursor()
        for camera in range(1, cameras + 1):
            for day in range(days):
                start = now - (days - day) * DAY
                rows = [(camera, start + i * SEGMENT_S, start + (i + 1) * SEGMENT_S,
                         f"segments/{camera}/{int((start + i * SEGMENT_S) * 1000)}.mp4",
                         1_500_000, 1, 6, 0.05) for i in range(per_day)]
                cursor.executemany(
                    "INSERT INTO recording_segments (camera_id, start, \"end\", path, bytes, "
                    "has_audio, keyframes, activity) VALUES (?, ?, ?, ?, ?, ?, ?, ?)", rows)
                events = []
                for i in range(EVENTS_PER_DAY):
                    at = start + i * DAY / EVENTS_PER_DAY
                    stamp = datetime.fromtimestamp(at, UTC).replace(tzinfo=None)
                    events.append((camera, stamp.isoformat(sep=" "), at, at + 30,
                                   stamp.isoformat(sep=" ")))
                cursor.executemany(
                    "INSERT INTO events (camera_id, kind, label, ts, clip_start, clip_end, "
                    "in_progress, created_at) VALUES (?, 'motion', 'person', ?, ?, ?, 0, ?)",
                    events)
            raw.commit()
    finally:
        raw.close()
    return engine


def timed(run: Callable[[], object]) -> float:
    """Median milliseconds of `run` over RUNS runs (after one warm-up)."""
    run()
    spent = []
    for _ in range(RUNS):
        started = time.perf_counter()
        run()
        spent.append((time.perf_counter() - started) * 1000)
    return statistics.median(spent)


def queries(engine: Engine, root: Path, now: float) -> dict[str, float]:
    """The latency (ms) of each query the API makes, over camera 1, ending now."""
    layout = Layout(root)
    day = (datetime.fromtimestamp(now, UTC) - timedelta(days=1)).date()

    def run(query: Callable[[Session], object]) -> Callable[[], object]:
        def once() -> object:
            with Session(engine) as session:
                return query(session)
        return once

    return {
        "summary of a day (24 hours, events by label)": timed(run(lambda s: day_summary(
            s, camera_id=1, day=day, zone=ZoneInfo("UTC")))),
        "recordings, 1 h": timed(run(lambda s: coverage(
            s, camera_id=1, start=now - 3600, end=now))),
        "recordings, 24 h": timed(run(lambda s: coverage(
            s, camera_id=1, start=now - DAY, end=now))),
        "recordings, 7 days (the most one call covers)": timed(run(lambda s: coverage(
            s, camera_id=1, start=now - 7 * DAY, end=now))),
        "playlist of 1 h (segments)": timed(run(lambda s: segments_between(
            s, layout=layout, camera_id=1, start=now - 3600, end=now))),
        "storage per camera (/api/system, summed in the background every 60 s)": timed(
            run(lambda s: camera_stats(s, now=now, stale_after=30))),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--days", type=int, default=30)
    parser.add_argument("--cameras", type=int, default=16)
    args = parser.parse_args()
    now = time.time()
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        small = build(root / "small.db", days=1, cameras=1, now=now)
        started = time.monotonic()
        big = build(root / "big.db", days=args.days, cameras=args.cameras, now=now)
        built = time.monotonic() - started
        rows = args.days * args.cameras * int(DAY / SEGMENT_S)
        size = sum(p.stat().st_size for p in root.glob("big.db*"))
        base, scaled = queries(small, root, now), queries(big, root, now)
    lines = [(name, f"{base[name]:.1f}", f"{scaled[name]:.1f}",
              f"{scaled[name] / base[name]:.2f}") for name in base]
    text = "\n\n".join([
        f"## Recording index: {args.days} days × {args.cameras} cameras of {SEGMENT_S:g} s "
        "segments",
        table(["figure", "value"], [
            ("segment rows", f"{rows:,}"),
            ("events", f"{args.days * args.cameras * EVENTS_PER_DAY:,}"),
            ("database size (SQLite, with events)", f"{size / 1e6:.0f} MB"),
            ("bytes per segment row, indexes included", f"{size / rows:.0f}"),
            ("bulk build", f"{built:.0f} s"),
        ]),
        "Query latency, median of 7 (ms), against one camera-day (the baseline):",
        table(["query", "1 camera-day (baseline)", f"{args.days} d × {args.cameras} cameras",
               "ratio"], lines),
    ])
    print(text)
    write_report("recording_index", text)


if __name__ == "__main__":
    main()
