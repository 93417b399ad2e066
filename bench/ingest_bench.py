"""CPU cost of camera ingest: StreamReader + SegmentWriter vs a bare PyAV decode loop.

Both read the same stream for the same wall time in this process; the figure is CPU seconds
(user + system, all threads) per second of camera video, and the ratio ingest / baseline.
The baseline converts every frame to BGR, as a naive loop does; Iris keeps frames as decoded
and converts only those it uses (detection, viewers), so its ratio can fall below 1.

    .venv/bin/python -m bench.ingest_bench [--source rtsp|file] [--seconds 10] [--size 1280x720]

``rtsp`` (default when GStreamer is present) serves a generated clip from the test RTSP
server (its CPU is another process, not counted); ``file`` loops the clip in real time.
"""

from __future__ import annotations

import argparse
import json
import resource
import tempfile
import threading
import time
from pathlib import Path

import av

from iris.actors.ingest import IngestOptions, StreamReader
from iris.actors.live_frames import LatestFrame
from iris.recording.writer import SegmentWriter
from iris.sources import SourcePolicy
from tests.support.media import make_clip, to_annexb
from tests.support.rtsp import RtspServer, gstreamer_available
from tests.support.wait import wait_for


def cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def bare_decode(url: str, seconds: float, is_rtsp: bool) -> tuple[float, float]:
    """Decode video frames to BGR for ``seconds`` of wall time; (cpu s, video s)."""
    options = {"rtsp_transport": "tcp"} if is_rtsp else {}
    container = av.open(url, options=options)
    video = container.streams.video[0]
    frames, started, cpu = 0, time.monotonic(), cpu_seconds()
    origin = None
    while time.monotonic() - started < seconds:
        for packet in container.demux(video):
            for frame in packet.decode():
                frame.to_ndarray(format="bgr24")
                frames += 1
                if not is_rtsp:  # pace a file like the reader does: same work per second
                    origin = origin or time.monotonic()
                    due = origin + frames / float(video.average_rate or 25)
                    time.sleep(max(0.0, due - time.monotonic()))
            if time.monotonic() - started >= seconds:
                break
        else:
            container.seek(0)
    cpu = cpu_seconds() - cpu
    container.close()
    return cpu, frames / float(video.average_rate or 25)


class SegmentingSink:
    """What a camera does with ingest output here: segment packets, keep the newest frame."""

    def __init__(self, directory: Path) -> None:
        self.writer = SegmentWriter(directory)
        self.latest = LatestFrame()
        self.frames = 0

    def on_open(self, container_streams: list) -> None:
        self.writer.open_streams(container_streams)

    def on_packet(self, packet: av.Packet) -> None:
        self.writer.write(packet, time.time())

    def on_frame(self, frame: av.VideoFrame, wall_time: float) -> None:
        self.latest.put(frame, wall_time)
        self.frames += 1


    def on_status(self, status: str, reason: str | None) -> None:
        pass


def watch(latest: LatestFrame, fps: float, stop: threading.Event) -> None:
    """One MJPEG viewer at `fps`: the camera encodes its newest frame when asked."""
    seq = 0
    while not stop.wait(1.0 / fps):
        got = latest.jpeg(seq, 1.0)
        seq = got[0] if got else seq


def ingest(url: str, seconds: float, directory: Path, fps: float,
           viewer_fps: float = 0.0) -> tuple[float, float]:
    """Run StreamReader + SegmentWriter (+ a viewer) for ``seconds`` once online."""
    sink = SegmentingSink(directory)
    policy = SourcePolicy(local_dir=directory.parent)  # the clip lies beside the segments
    reader = StreamReader(IngestOptions(url=url, policy=policy), sink)
    reader.start()
    wait_for(lambda: sink.frames, 30, 0.05, f"frames from {url}")
    stop = threading.Event()
    viewer = threading.Thread(target=watch, args=(sink.latest, viewer_fps, stop), daemon=True)
    if viewer_fps:
        viewer.start()
    frames, cpu = sink.frames, cpu_seconds()
    time.sleep(seconds)  # the measured window
    cpu, frames = cpu_seconds() - cpu, sink.frames - frames
    stop.set()
    reader.stop()
    sink.writer.close()
    return cpu, frames / fps


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--source", choices=("rtsp", "file"),
                        default="rtsp" if gstreamer_available() else "file")
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--size", default="1280x720")
    parser.add_argument("--fps", type=int, default=25)
    args = parser.parse_args()
    width, height = (int(x) for x in args.size.split("x"))

    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        clip = make_clip(root / "cam.mp4", seconds=10, fps=args.fps, size=(width, height))
        server = None
        if args.source == "rtsp":
            server = RtspServer(to_annexb(clip), audio_mp4=clip, fps=args.fps).start()
        url = server.url if server is not None else clip.as_uri()
        try:
            base_cpu, base_video = bare_decode(url, args.seconds, server is not None)
            ingest_cpu, ingest_video = ingest(url, args.seconds, root / "segments", args.fps)
            watched_cpu, watched_video = ingest(url, args.seconds, root / "watched", args.fps,
                                                viewer_fps=10)
        finally:
            if server is not None:
                server.stop()
        segments = len(list((root / "segments").glob("*.mp4")))

    baseline = base_cpu / base_video
    ours = ingest_cpu / ingest_video
    watched = watched_cpu / watched_video
    print(json.dumps({
        "source": args.source, "size": args.size, "fps": args.fps,
        "baseline_cpu_s_per_camera_s": round(baseline, 4),
        "ingest_cpu_s_per_camera_s": round(ours, 4),
        "ratio": round(ours / baseline, 3),
        "watched_cpu_s_per_camera_s": round(watched, 4),
        "watched_ratio": round(watched / baseline, 3),
        "ingest_video_s": round(ingest_video, 2), "segments_written": segments,
    }, indent=2))
    table = (f"## Camera ingest ({args.source}, {args.size}@{args.fps})\n\n"
             "| figure | CPU s per camera-second | ratio |\n|---|---|---|\n"
             f"| bare PyAV decode loop (baseline) | {baseline:.4f} | 1.00 |\n"
             f"| ingest + segment buffer | {ours:.4f} | {ours / baseline:.2f} |\n"
             f"| ingest + segments + one MJPEG viewer at 10 fps | {watched:.4f} | "
             f"{watched / baseline:.2f} |\n")
    out = Path("bench/out/ingest.md")
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(table)


if __name__ == "__main__":
    main()
