"""Clips cut on demand: time to the first byte of an event's clip and of a 1 h export, through
the API in-process (no Ray), against copying the same segment files (the baseline).

One 6 s segment of 720p at 2 Mbps (CBR) is recorded by Iris's writer and repeated to fill the
range (the remux does the same work on every copy). The first request cuts the clip into the
cache; a second one (a player's next Range request, another viewer) is served from it.

    .venv/bin/python -m bench.clip_bench [--minutes 60]
"""

from __future__ import annotations

import argparse
import shutil
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

import av
from sqlmodel import Session

from bench.common import table, write_report
from bench.recording_bench import cbr_clip
from iris.db.engine import make_engine
from iris.db.tables import Camera
from iris.layout import Layout
from iris.recording.index import add_segment
from iris.recording.segment import Segment, segment_name
from iris.recording.writer import SegmentWriter
from iris.serve.api import create_api
from iris.settings import load_settings
from tests.support.api import api_client

KEY = "bench-key"
SEGMENT_S = 6.0


def one_segment(root: Path) -> Path:
    """A 6 s segment as Iris writes it (720p, 2 Mbps)."""
    source = cbr_clip(root / "source.mp4", (1280, 720), 2000, seconds=7)
    done: list[Segment] = []
    writer = SegmentWriter(root / "one", SEGMENT_S, on_segment=done.append)
    with av.open(str(source)) as container:
        video = container.streams.video[0]
        writer.open_streams([video])
        for packet in container.demux(video):
            if packet.size and packet.dts is not None:
                writer.write(packet, 1e9 + float(packet.dts * packet.time_base))
    writer.close()
    return done[0].path


def fill(root: Path, segment: Path, start: float, minutes: float) -> tuple[int, list[Path]]:
    """A camera whose index holds `minutes` of copies of `segment` from `start` on."""
    layout = Layout(root)
    engine = make_engine(f"sqlite:///{root / 'iris.db'}")
    with Session(engine) as session:
        camera = Camera(name="bench", rtsp_url="rtsp://cam/s", enabled=False)
        session.add(camera)
        session.commit()
        assert camera.id is not None
        folder = layout.segments(camera.id)
        folder.mkdir(parents=True)
        paths = []
        for index in range(int(minutes * 60 / SEGMENT_S)):
            at = start + index * SEGMENT_S
            path = folder / segment_name(at, at + SEGMENT_S)
            shutil.copyfile(segment, path)
            add_segment(session, layout=layout, camera_id=camera.id,
                        segment=Segment(at, at + SEGMENT_S, path, bytes=path.stat().st_size,
                                        keyframes=6))
            paths.append(path)
        camera_id = camera.id
    engine.dispose()
    return camera_id, paths


def first_byte(client, url: str) -> float:  # noqa: ANN001 - a TestClient
    started = time.perf_counter()
    with client.stream("GET", url) as response:
        assert response.status_code == 200, response.read()
        next(response.iter_bytes())
    return time.perf_counter() - started


def copy_time(paths: list[Path], out: Path) -> float:
    started = time.perf_counter()
    with out.open("wb") as sink:
        for path in paths:
            with path.open("rb") as source:
                shutil.copyfileobj(source, sink, 1 << 20)
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, default=60)
    args = parser.parse_args()
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp) / "data"
        root.mkdir()
        segment = one_segment(Path(tmp))
        start = time.time() - 2 * 86400  # settled footage: no more can come
        camera_id, paths = fill(root, segment, start, args.minutes)
        settings = load_settings(data_dir=root, api_key=KEY,
                                 recordings_clip_max_seconds=max(3600, args.minutes * 60))
        with api_client(create_api(settings), headers={"Authorization": f"Bearer {KEY}"}) \
                as client:
            for label, seconds in (("a 60 s event", 60.0), (f"{args.minutes:g} min export",
                                                              args.minutes * 60)):
                count = int(seconds / SEGMENT_S)
                baseline = copy_time(paths[:count], Path(tmp) / "copy.bin")
                url = (f"/api/recordings/{camera_id}/clip?from={_iso(start)}"
                       f"&to={_iso(start + seconds)}")
                cut = first_byte(client, url)
                cached = first_byte(client, url)
                size = sum(p.stat().st_size for p in paths[:count])
                rows.append((label, f"{size / 1e6:.0f} MB", f"{baseline:.2f}", f"{cut:.2f}",
                             f"{cut / baseline:.1f}", f"{cached * 1000:.0f} ms"))
    text = "\n\n".join([
        "## Clip first byte (720p, 2 Mbps; cut on demand, then cached)",
        table(["clip", "footage", "copy the segment files, s (baseline)",
               "first request: cut, then first byte, s", "ratio", "next request (cached)"],
              rows),
    ])
    print(text)
    write_report("clip", text)


def _iso(epoch: float) -> str:
    return datetime.fromtimestamp(epoch, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


if __name__ == "__main__":
    main()
