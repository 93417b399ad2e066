"""CPU cost of camera ingest: StreamReader + SegmentWriter vs bare PyAV loops.

Every loop reads the same stream for the same wall time in this process; the figure is CPU
seconds (user + system, all threads) per second of camera video, and the ratio to a baseline.
Iris decodes every frame, keeps it as decoded (converting only those it uses: detection,
viewers) and remuxes every packet into segments. The baseline that does the same work is a bare
loop that decodes every frame without converting it and remuxes every packet (video and audio)
into one MP4; the naive loop that converts every frame to BGR is reported beside it, and so is
a decode-only loop without conversion.

    .venv/bin/python -m bench.ingest_bench [--source rtsp|file] [--seconds 10] [--size 1280x720]
        [--quick]

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


def bare_loop(url: str, seconds: float, is_rtsp: bool, *, bgr: bool,
              remux_to: Path | None = None) -> tuple[float, float]:
    """Decode every video frame for ``seconds`` of wall time; (cpu s, video s).

    ``bgr``: convert each frame to a BGR array, as a naive loop does. ``remux_to``: also mux
    every packet with timestamps (video and audio) into this MP4, as recording does.
    """
    options = {"rtsp_transport": "tcp"} if is_rtsp else {}
    container = av.open(url, options=options)
    video = container.streams.video[0]
    streams = [video, *container.streams.audio[:1]] if remux_to is not None else [video]
    out = av.open(str(remux_to), "w", format="mp4") if remux_to is not None else None
    mapped = {s.index: out.add_stream_from_template(s) for s in streams} if out else {}
    last_dts: dict[int, int] = {}
    offsets: dict[int, int] = {}
    frames, started, cpu = 0, time.monotonic(), cpu_seconds()
    origin = None
    while time.monotonic() - started < seconds:
        for packet in container.demux(*streams):
            if packet.stream.type == "video":
                for frame in packet.decode():
                    if bgr:
                        frame.to_ndarray(format="bgr24")
                    frames += 1
                    if not is_rtsp:  # pace a file like the reader does: same work per second
                        origin = origin or time.monotonic()
                        due = origin + frames / float(video.average_rate or 25)
                        time.sleep(max(0.0, due - time.monotonic()))
            index = packet.stream.index
            if out is not None and packet.dts is not None and packet.pts is not None:
                shift = offsets.get(index, 0)  # a looped file continues after its last DTS
                if packet.dts + shift > last_dts.get(index, -(2**62)):
                    packet.dts, packet.pts = packet.dts + shift, packet.pts + shift
                    last_dts[index] = packet.dts
                    packet.stream = mapped[index]  # decoded already: the muxer may consume it
                    out.mux(packet)
            if time.monotonic() - started >= seconds:
                break
        else:
            container.seek(0)
            offsets = {index: dts + 1 for index, dts in last_dts.items()}
    cpu = cpu_seconds() - cpu
    if out is not None:
        out.close()
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
    parser.add_argument("--quick", action="store_true", help="5 s per loop")
    args = parser.parse_args()
    if args.quick:
        args.seconds = 5.0
    width, height = (int(x) for x in args.size.split("x"))

    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        clip = make_clip(root / "cam.mp4", seconds=10, fps=args.fps, size=(width, height))
        server = None
        if args.source == "rtsp":
            server = RtspServer(to_annexb(clip), audio_mp4=clip, fps=args.fps).start()
        url = server.url if server is not None else clip.as_uri()
        try:
            is_rtsp = server is not None
            bgr_cpu, bgr_video = bare_loop(url, args.seconds, is_rtsp, bgr=True)
            decode_cpu, decode_video = bare_loop(url, args.seconds, is_rtsp, bgr=False)
            base_cpu, base_video = bare_loop(url, args.seconds, is_rtsp, bgr=False,
                                             remux_to=root / "bare-remux.mp4")
            ingest_cpu, ingest_video = ingest(url, args.seconds, root / "segments", args.fps)
            watched_cpu, watched_video = ingest(url, args.seconds, root / "watched", args.fps,
                                                viewer_fps=10)
        finally:
            if server is not None:
                server.stop()
        segments = len(list((root / "segments").glob("*.mp4")))

    baseline = base_cpu / base_video
    naive = bgr_cpu / bgr_video
    decode_only = decode_cpu / decode_video
    ours = ingest_cpu / ingest_video
    watched = watched_cpu / watched_video
    print(json.dumps({
        "source": args.source, "size": args.size, "fps": args.fps,
        "baseline_cpu_s_per_camera_s": round(baseline, 4),
        "bgr_loop_cpu_s_per_camera_s": round(naive, 4),
        "decode_only_cpu_s_per_camera_s": round(decode_only, 4),
        "ingest_cpu_s_per_camera_s": round(ours, 4),
        "ratio": round(ours / baseline, 3),
        "watched_cpu_s_per_camera_s": round(watched, 4),
        "watched_ratio": round(watched / baseline, 3),
        "ingest_video_s": round(ingest_video, 2), "segments_written": segments,
    }, indent=2))
    table = (f"## Camera ingest ({args.source}, {args.size}@{args.fps})\n\n"
             "| figure | CPU s per camera-second | ratio | vs naive BGR loop |\n"
             "|---|---:|---:|---:|\n"
             f"| bare PyAV decode + remux loop, frames as decoded (baseline: Iris's work) | "
             f"{baseline:.4f} | 1.00 | {baseline / naive:.2f} |\n"
             f"| bare PyAV decode loop, frames as decoded | {decode_only:.4f} | "
             f"{decode_only / baseline:.2f} | {decode_only / naive:.2f} |\n"
             f"| bare PyAV decode loop, every frame to BGR (naive) | {naive:.4f} | "
             f"{naive / baseline:.2f} | 1.00 |\n"
             f"| Iris ingest + segments | {ours:.4f} | **{ours / baseline:.2f}** | "
             f"{ours / naive:.2f} |\n"
             f"| Iris ingest + segments + one MJPEG viewer at 10 fps | {watched:.4f} | "
             f"{watched / baseline:.2f} | {watched / naive:.2f} |\n")
    out = Path("bench/out/ingest.md")
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(table)


if __name__ == "__main__":
    main()
