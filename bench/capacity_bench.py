"""Capacity: how many 720p25 cameras one box holds with a realistic scene, nothing lost.

Each camera watches a static scene where a person-like marker walks through about 20 % of the
time (a presence of `PRESENCE_S` every `LOOP_S`; cameras are spread over `PHASES` scenes whose
presences are staggered). Detection runs at 5 fps while something moves, with a detector that
costs what yolo11n at 320 px costs and finds the markers (the stand-in marker detector and the
yolo11n graph with random weights in one ONNX model: the stand-in's answer, yolo11n's cost).

For each camera count N (default 8, 12, 16) Iris runs N cameras for a window of whole loops
and the run counts as *held* when:

- every scripted presence produced exactly one event (`GET /api/events`): none missed, none
  split in two;
- the recordings lost no frames: the segments indexed over the window hold the source's
  frames for the span they cover (ffprobe packet counts vs duration x fps), and cover it;
- live view works: every camera's snapshot answers a JPEG.

The largest N held is reported beside the raw single-process loop's 8 cameras on this box
(`bench/pipeline_bench.py`: decode + detect of every camera at 5 fps, dropping frames at 10).

    .venv/bin/python -m bench.capacity_bench [--cameras 8,12,16] [--loops 3] [--quick]

Writes ``bench/out/capacity.md``.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from bench.common import MODEL_DIR, OUT_DIR, self_cpu, table, write_report
from bench.iris_harness import BenchIris
from iris.layout import Layout
from iris.recording.segment import Segment
from tests.support.media import make_clip, to_annexb
from tests.support.rtsp import RtspServer
from tests.support.wait import wait_for

RAW_LOOP_CAMERAS = 8
"""Cameras the raw decode+detect loop holds on this box without dropping frames
(bench/RESULTS.md, pipeline; it drops at 10)."""
FPS, SIZE, IMGSZ = 25, (1280, 720), 320
LOOP_S, PRESENCE_S, PHASES = 20.0, 4.0, 4
MARKER = (64, 180)  # width, height: a person some metres away in a 720p frame
CAMERA = {"detect_interval": 0.2, "detect_imgsz": IMGSZ, "pre_seconds": 1, "post_seconds": 2,
          "trigger_cooldown": 2, "min_trigger_frames": 2, "faces_enabled": False,
          "reid_enabled": False}
LOST_TOLERANCE = 0.002
"""Share of a window's frames the recordings may miss before the run counts as losing frames
(segment boundaries inside the window are rounded to whole frames)."""


# ----------------------------------------------------------------------------- model, scenes
def costed_standin(imgsz: int = IMGSZ) -> Path:
    """One ONNX model: the stand-in marker detector's output, plus 0 x yolo11n's (its cost).

    Built once under bench/out/models. onnxruntime does not fold a product with zero away
    (it would change NaN and infinity), so every inference runs the whole yolo11n graph.
    """
    path = MODEL_DIR / f"standin-yolo11n-cost-{imgsz}.onnx"
    if path.is_file():
        return path
    from iris.models.detectors.ultralytics import prepare_ultralytics

    prepare_ultralytics()
    import torch
    from ultralytics import YOLO
    from ultralytics.nn.modules import Detect

    from iris.models.standins import _standin_module, build_standin_detector

    torch.manual_seed(0)
    built: Any = YOLO("yolo11n.yaml", task="detect")
    yolo: Any = built.model.eval()
    head: Any
    for head in yolo.modules():
        if isinstance(head, Detect):  # what ultralytics' exporter sets before tracing
            setattr(head, "format", "onnx")  # noqa: B010 - typed None in ultralytics
            head.export, head.dynamic = True, True

    class Costed(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.markers = _standin_module()
            self.yolo = yolo

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            cost = self.yolo(x)
            cost = cost[0] if isinstance(cost, tuple | list) else cost
            return self.markers(x) + 0.0 * cost.sum()

    partial = MODEL_DIR / "building" / path.name
    partial.parent.mkdir(parents=True, exist_ok=True)
    # The stand-in's export writes the metadata (names, imgsz) the backends read; reuse it.
    build_standin_detector(partial, imgsz=imgsz)
    import onnx

    meta = {p.key: p.value for p in onnx.load(str(partial)).metadata_props}
    with torch.no_grad():
        torch.onnx.export(Costed().eval(), (torch.zeros(1, 3, imgsz, imgsz),), str(partial),
                          input_names=["images"], output_names=["output0"],
                          dynamic_axes={"images": {0: "batch", 2: "height", 3: "width"},
                                        "output0": {0: "batch"}},
                          opset_version=13, dynamo=False)
    model = onnx.load(str(partial))
    for key, value in meta.items():
        entry = model.metadata_props.add()
        entry.key, entry.value = key, value
    onnx.save(model, str(partial))
    partial.replace(path)
    return path


def scene(phase: int, loop_s: float, presence_s: float) -> Path:
    """The H.264 stream of scene `phase`: static, a marker walking through once per loop."""
    out = OUT_DIR / "capacity" / f"scene-{phase}-{loop_s:g}-{presence_s:g}.h264"
    if out.is_file():
        return out
    from iris.models.standins import draw_marker

    enter = (phase * loop_s / PHASES + 1.0) % (loop_s - presence_s)
    width, height = MARKER
    top = SIZE[1] - height - 60
    left = 80 + (phase * 277) % (SIZE[0] - 600)

    def marker(index: int, image: Any) -> None:
        t = index / FPS
        if enter <= t < enter + presence_s:
            x = int(left + 60 * (t - enter))  # walking, 60 px/s
            draw_marker(image, (x, top, x + width, top + height), "person")

    mp4 = make_clip(out.with_suffix(".mp4"), seconds=loop_s, fps=FPS, size=SIZE, audio=False,
                    moving=False, image_seconds=loop_s, markers=marker)
    to_annexb(mp4, out)
    return out


# ----------------------------------------------------------------------------- idle decode
class _Sink:
    """Takes what a reader delivers and drops it (the reader's own cost is measured)."""

    frames = 0

    def on_open(self, container_streams: list) -> None:
        pass

    def on_packet(self, packet: Any) -> None:
        pass

    def on_frame(self, frame: Any, wall_time: float) -> None:
        self.frames += 1

    def on_status(self, status: str, reason: str | None) -> None:
        pass

    def decoded_any(self) -> bool:
        return self.frames > 0


def idle_decode_cost(url: str, seconds: float) -> list[tuple[str, float, float]]:
    """(mode, CPU s per camera-second, frames decoded per second) of one idle camera's reader
    in each `idle_decode` mode, in this process, on the same 720p25 stream."""
    from iris.actors.ingest import IDLE_DECODE_MODES, IngestOptions, StreamReader

    rows = []
    for mode in IDLE_DECODE_MODES:
        sink = _Sink()
        reader = StreamReader(IngestOptions(url=url, idle_decode=mode), sink,
                              may_reduce=lambda: True)
        reader.start()
        try:
            wait_for(sink.decoded_any, 60, what=f"{mode}: a decoded frame")
            time.sleep(2.0)  # past the first GOP
            frames0, cpu0, started = sink.frames, self_cpu(), time.monotonic()
            time.sleep(seconds)
            elapsed = time.monotonic() - started
            rows.append((mode, (self_cpu() - cpu0) / elapsed, (sink.frames - frames0) / elapsed))
        finally:
            reader.stop()
    return rows


# ----------------------------------------------------------------------------- one run
@dataclass
class Run:
    """One camera count measured over one window."""

    cameras: int
    seconds: float
    cores: float
    load: float
    fps_min: float
    presences: int  # expected in the window, all cameras
    events: int
    missed: int
    split: int
    frames_expected: float
    frames_recorded: int
    snapshots_ok: int
    detections: float
    not_decoded: float
    frames_seen: float
    cropped: float
    notes: list[str] = field(default_factory=list)

    @property
    def lost(self) -> float:
        return max(0.0, self.frames_expected - self.frames_recorded)

    @property
    def held(self) -> bool:
        return (self.missed == 0 and self.split == 0 and self.snapshots_ok == self.cameras
                and self.lost <= LOST_TOLERANCE * self.frames_expected)


def epoch(iso: str) -> float:
    return datetime.fromisoformat(iso.replace("Z", "+00:00")).timestamp()


def judge_events(starts: list[float], t0: float, t1: float, loop_s: float) -> tuple[int, int]:
    """(missed, split) presences of one camera from its events' start times in [t0, t1].

    The window holds whole loops, so exactly one presence starts per loop: consecutive events
    a loop apart are one presence each; a gap of k loops misses k-1; events closer than half a
    loop split one presence; a first (last) event more than a loop from the window's start
    (end) means the presence there was missed.
    """
    starts = sorted(starts)
    if not starts:
        return round((t1 - t0) / loop_s), 0
    missed = split = 0
    for a, b in zip(starts, starts[1:], strict=False):
        gap = b - a
        if gap < 0.5 * loop_s:
            split += 1
        else:
            missed += max(0, round(gap / loop_s) - 1)
    missed += int((starts[0] - t0) // loop_s) + int((t1 - starts[-1]) // loop_s)
    return missed, split


def recorded_frames(layout: Layout, camera_id: int, t0: float, t1: float) -> tuple[float, int]:
    """(frames the source sent, frames recorded) over the segments inside [t0, t1]."""
    segments = sorted(s for p in layout.segments(camera_id).glob("*.mp4")
                      if (s := Segment.from_path(p)) is not None and s.start >= t0
                      and s.end <= t1)
    if not segments:
        return (t1 - t0) * FPS, 0
    packets = 0
    for segment in segments:
        out = subprocess.run(
            ["ffprobe", "-v", "error", "-count_packets", "-select_streams", "v:0",
             "-show_entries", "stream=nb_read_packets", "-of", "csv=p=0", str(segment.path)],
            check=True, capture_output=True, text=True)
        packets += int(out.stdout.strip() or 0)
    # The span the segments cover, end to end: a gap between two of them is lost footage.
    return (segments[-1].end - segments[0].start) * FPS, packets


def snapshot_ok(iris: BenchIris, camera_id: int) -> bool:
    response = iris.api().get(f"/api/live/{camera_id}/snapshot", timeout=30)
    return (response.status_code == 200 and response.content[:2] == b"\xff\xd8"
            and response.headers.get("content-type", "").startswith("image/jpeg"))


def measure(iris: BenchIris, layout: Layout, ids: list[int], loops: int,
            loop_s: float) -> Run:
    """Run the enabled cameras `ids` for `loops` whole loops and judge what they produced."""
    iris.wait_streaming(ids, min_fps=0.8 * FPS, timeout=300)
    wait_for(lambda: all(w.get("detector") == "ok" for w in iris.workers().values()),
             120, what="cameras using the detector")
    time.sleep(loop_s)  # warm-up: a whole loop, so every camera has seen one presence
    before = iris.workers()
    load = os.getloadavg()[0]
    meter = iris.cpu_meter()
    meter.start()
    t0 = time.time()
    fps: list[float] = []
    while time.time() - t0 < loops * loop_s:
        time.sleep(2.0)
        fps += [float(w.get("fps") or 0.0) for c, w in iris.workers().items() if c in ids]
    window = meter.stop()
    t1 = time.time()
    after = iris.workers()
    snapshots = sum(snapshot_ok(iris, c) for c in ids)
    # Events close post_seconds after their presence and are indexed a GOP later.
    time.sleep(CAMERA["post_seconds"] + 4)
    presences = missed = split = found = 0
    expected_frames = 0.0
    recorded = 0
    for camera_id in ids:
        items = iris.api().get("/api/events", params={"camera_id": camera_id, "limit": 200},
                               timeout=30).json()["items"]
        starts = [epoch(e["ts"]) for e in items if t0 <= epoch(e["ts"]) < t1]
        m, s = judge_events(starts, t0, t1, loop_s)
        if m or s:  # which camera, and when its events began (seconds into the window)
            print(f"camera {camera_id}: missed {m}, split {s}; events at "
                  f"{[round(start - t0, 1) for start in sorted(starts)]} s of "
                  f"{t1 - t0:.0f} s", flush=True)
        # The window runs a little past its loops on a loaded box, so a fourth presence can
        # start inside it: count the presences the events show (found - split + missed).
        presences += len(starts) - s + m
        missed, split, found = missed + m, split + s, found + len(starts)
        sent, got = recorded_frames(layout, camera_id, t0, t1 + 30)
        expected_frames, recorded = expected_frames + sent, recorded + got

    def delta(key: str) -> float:
        return float(sum((after[c].get(key) or 0) - (before[c].get(key) or 0) for c in ids))

    return Run(len(ids), window.seconds, window.cores, load, min(fps, default=0.0), presences,
               found, missed, split, expected_frames, recorded, snapshots,
               delta("detections"), delta("frames_not_decoded"),
               statistics.fmean(fps) * window.seconds * len(ids) if fps else 0.0,
               delta("detections_cropped"))


# ----------------------------------------------------------------------------- report
def render(args: argparse.Namespace, runs: list[Run], loop_s: float, presence_s: float,
           idle: list[tuple[str, float, float]]) -> str:
    held = [r.cameras for r in runs if r.held]
    best = max(held, default=0)
    rows = []
    for r in runs:
        present_s = r.cameras * r.seconds * (presence_s + CAMERA["post_seconds"]) / loop_s
        rows.append((
            str(r.cameras), f"{r.cores:.2f}", f"{r.cores / r.cameras:.3f}", f"{r.load:.1f}",
            f"{r.fps_min:.1f}", f"{r.events} / {r.presences}", str(r.missed), str(r.split),
            f"{r.lost:.0f} ({100 * r.lost / max(1.0, r.frames_expected):.2f} %)",
            f"{r.snapshots_ok} / {r.cameras}",
            f"{r.detections / present_s:.1f}" if present_s else "—",
            f"{100 * r.not_decoded / max(1.0, r.frames_seen):.0f} %",
            f"{100 * r.cropped / max(1.0, r.detections):.0f} %",
            "**yes**" if r.held else "no",
        ))
    header = ["cameras", "Iris CPU (cores)", "cores per camera", "1-min load", "fps/cam (min)",
              "events / presences", "missed", "split", "recorded frames lost",
              "snapshots", "detections/s per camera while present", "frames not decoded",
              "detections on a crop", "held"]
    lines = [
        f"## Capacity: 720p25 RTSP cameras, a marker walking through {presence_s:g} s in "
        f"every {loop_s:g} s ({100 * presence_s / loop_s:.0f} %), detection at 5 fps while "
        f"something moves ({IMGSZ} px, yolo11n's cost, CPU)",
        "",
        f"Each N measured over {args.loops} whole loops ({args.loops * loop_s:g} s) after one "
        f"loop of warm-up. Iris settings: idle_decode={args.idle_decode}, "
        f"detect_crop={str(not args.no_crop).lower()}. CPU = the whole `iris up` process "
        "tree. *Held*: every scripted presence gave exactly one event, the recordings lost "
        f"no more than {100 * LOST_TOLERANCE:g} % of the frames (segments' packets vs the "
        "span they cover × 25 fps) and every snapshot answered a JPEG. Detections/s while "
        "present counts the presence and the post-roll the event keeps detecting through.",
        "",
        table(header, rows),
        "",
        f"- Cameras held: **{best}** (tried {', '.join(str(r.cameras) for r in runs)}), "
        f"against the raw single-process loop's {RAW_LOOP_CAMERAS} on this box: "
        f"**{best / RAW_LOOP_CAMERAS:.2f}×**.",
    ]
    if best:
        held_run = next(r for r in runs if r.cameras == best)
        lines.append(f"- At {best} cameras Iris used {held_run.cores:.2f} cores: "
                     f"{best / max(held_run.cores, 1e-9):.1f} cameras per core busy, "
                     f"{best / max(1, os.cpu_count() or 1):.1f} cameras per core of the box.")
    if idle:
        base = next(cpu for mode, cpu, _ in idle if mode == "all")
        lines += [
            "",
            "### Idle decoding (`idle_decode`), one idle camera's reader, same stream",
            "",
            "Recording gets every packet in every mode. The price of `keyframes`: an idle "
            "camera notices motion at its next keyframe (GOP 1 s here; a camera's GOP setting "
            "bounds it), then decodes every frame again.",
            "",
            table(["mode", "CPU s per camera-second", "vs all", "frames decoded per second"],
                  [(mode, f"{cpu:.4f}", f"{cpu / base:.2f}", f"{fps:.1f}")
                   for mode, cpu, fps in idle]),
        ]
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cameras", default="8,12,16,20", help="camera counts, comma-separated")
    parser.add_argument("--loops", type=int, default=3, help="measured loops per count")
    parser.add_argument("--idle-decode", default="keyframes",
                        choices=("all", "reduced", "keyframes"))
    parser.add_argument("--no-crop", action="store_true", help="detect on whole frames")
    parser.add_argument("--quick", action="store_true",
                        help="2 and 4 cameras, a 10 s loop, 2 loops (a smoke run)")
    args = parser.parse_args(argv)
    loop_s, presence_s = LOOP_S, PRESENCE_S
    if args.quick:
        args.cameras, args.loops, loop_s, presence_s = "2,4", 2, 10.0, 2.0
    counts = sorted({int(n) for n in args.cameras.split(",") if n})
    model = costed_standin()
    streams = [scene(p, loop_s, presence_s) for p in range(PHASES)]

    runs: list[Run] = []
    with tempfile.TemporaryDirectory(prefix="iris-bench-capacity-") as tmp:
        folder = Path(tmp)
        servers = [RtspServer(s, fps=FPS, log_path=folder / f"rtsp-{i}.log").start()
                   for i, s in enumerate(streams)]
        iris = BenchIris(folder / "iris", detector_model=model, num_cpus=max(8, max(counts) + 4),
                         IRIS_IDLE_DECODE=args.idle_decode,
                         IRIS_DETECT_CROP=str(not args.no_crop).lower(),
                         IRIS_SEGMENT_SECONDS="4")
        layout = Layout(folder / "iris" / "data")
        try:
            idle = idle_decode_cost(servers[0].url, 6.0 if args.quick else 15.0)
            print(f"idle decode: {idle}", flush=True)
            print(f"iris up healthy in {iris.start_retrying():.1f} s", flush=True)
            ids: list[int] = []
            for n in counts:
                while len(ids) < n:
                    server = servers[len(ids) % len(servers)]
                    ids.append(iris.add_camera(f"cap-{len(ids) + 1}", server.url, **CAMERA))
                run = measure(iris, layout, ids[:n], args.loops, loop_s)
                runs.append(run)
                print(f"{n} cameras: {run.cores:.2f} cores, events {run.events}/"
                      f"{run.presences} (missed {run.missed}, split {run.split}), lost "
                      f"{run.lost:.0f}/{run.frames_expected:.0f} frames, snapshots "
                      f"{run.snapshots_ok}/{n}, held {run.held}", flush=True)
                if not run.held:
                    break  # more cameras would not hold either
        except BaseException:
            print(iris.log_tail(), flush=True)
            raise
        finally:
            iris.stop()
            for server in servers:
                server.stop()
    report = render(args, runs, loop_s, presence_s, idle)
    print(report)
    print(f"written to {write_report('capacity', report)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
