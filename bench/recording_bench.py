"""Recording cost per camera: CPU of the recording store against a bare PyAV remux loop of the
same RTSP stream, and what a camera-day of footage takes on disk.

Both sides read the same stream for the same wall time in this process, without decoding (the
camera decodes for detection and live view either way): the bare loop remuxes packets into 6 s
MP4 files and nothing else; Iris runs its reader, segment writer (wall clock, `.part` then
rename, faststart, G.711 → AAC when the camera sends it) and index thread (one SQLite row per
segment). The figure is CPU seconds (user + system, all threads) per second of camera video,
median of alternating rounds, and their ratio (goal ≤ 1.05).

The streams are encoded at the constant bitrate of a camera's main stream (default 2 Mbps at
720p, 4 Mbps at 1080p; CBR fills to the rate whatever the scene), so bytes per second of
segments give GB per camera-day including MP4 overhead.

    .venv/bin/python -m bench.recording_bench [--seconds 20] [--rounds 3]
"""

from __future__ import annotations

import argparse
import resource
import statistics
import tempfile
import time
from fractions import Fraction
from pathlib import Path

import av
import numpy as np
from sqlmodel import Session

from bench.common import table, write_report
from iris.actors.ingest import IngestOptions, StreamReader
from iris.db.engine import make_engine
from iris.db.tables import Camera
from iris.layout import Layout
from iris.recording.camera import CameraRecording
from tests.support.clock_camera import ClockCamera
from tests.support.media import backgrounds, render_frame, to_annexb
from tests.support.rtsp import RtspServer
from tests.support.wait import wait_for

SEGMENT_S = 6.0
FPS = 25


def cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def cbr_clip(path: Path, size: tuple[int, int], kbps: int, seconds: int = 20) -> Path:
    """H.264 at a constant `kbps` (HRD CBR, GOP 1 s) over moving pictures and a little noise."""
    rng = np.random.default_rng(3)
    scene = backgrounds(size)[0]
    with av.open(str(path), "w", format="mp4") as out:
        stream = out.add_stream("libx264", rate=FPS)
        stream.width, stream.height = size
        stream.pix_fmt = "yuv420p"
        stream.time_base = Fraction(1, FPS)
        rate = f"{kbps}k"
        stream.options = {"preset": "veryfast", "b": rate, "maxrate": rate, "bufsize": rate,
                          "x264-params": f"nal-hrd=cbr:keyint={FPS}:min-keyint={FPS}:"
                                         "scenecut=0:bframes=0:sliced-threads=0"}
        for index in range(seconds * FPS):
            image = render_frame(index, FPS, scene)
            image = np.clip(image.astype(np.int16) + rng.integers(-6, 7, image.shape),
                            0, 255).astype(np.uint8)
            frame = av.VideoFrame.from_ndarray(image, format="bgr24")
            frame.pts = index
            out.mux(stream.encode(frame))
        out.mux(stream.encode(None))
    return path


def bare_remux(url: str, seconds: float, folder: Path) -> tuple[float, float]:
    """Remux the stream's packets into ~6 s MP4 files, cut at keyframes; (cpu s, video s)."""
    folder.mkdir(parents=True, exist_ok=True)
    container = av.open(url, options={"rtsp_transport": "tcp"}, timeout=(10, 5))
    copied = [a for a in container.streams.audio if a.codec_context.name in ("aac", "opus")]
    streams = [container.streams.video[0], *copied[:1]]  # MP4 cannot hold G.711
    video = streams[0]
    out, outputs, cut, files = None, {}, None, 0
    started = cpu = None
    frames = 0
    for packet in container.demux(streams):
        if packet.dts is None or packet.size == 0:
            continue
        t = float(packet.dts * packet.time_base)
        if packet.stream_index == video.index:
            if started is None:
                started, cpu = time.monotonic(), cpu_seconds()
            frames += 1
            if packet.is_keyframe and (cut is None or t - cut >= SEGMENT_S):
                if out is not None:
                    out.close()
                files += 1
                out = av.open(str(folder / f"{files}.mp4"), "w", format="mp4",
                              options={"movflags": "+faststart"})
                outputs = {s.index: out.add_stream_from_template(s) for s in streams}
                cut = t
        if out is None or cut is None:
            continue
        base = round(cut / packet.time_base)
        if packet.dts - base < 0:
            continue
        packet.dts -= base
        packet.pts = packet.pts - base if packet.pts is not None else packet.dts
        packet.stream = outputs[packet.stream_index]
        out.mux(packet)
        if started is not None and time.monotonic() - started >= seconds:
            break
    spent = cpu_seconds() - (cpu or 0.0)
    if out is not None:
        out.close()
    container.close()
    return spent, frames / FPS


class Sink:
    """What a camera does with its packets here: the recording store, nothing else."""

    def __init__(self, recording: CameraRecording) -> None:
        self.recording = recording
        self.packets = 0

    def on_open(self, streams: list) -> None:
        self.recording.open_streams(streams)

    def on_packet(self, packet: av.Packet) -> None:
        self.recording.write(packet, time.time())
        self.packets += 1

    def on_frame(self, frame: av.VideoFrame, wall_time: float) -> None:
        pass

    def on_status(self, status: str, reason: str | None) -> None:
        if status == "error" and reason:
            self.recording.note_outage(reason)


def iris_recording(url: str, seconds: float, root: Path) -> tuple[float, float, int]:
    """Iris's reader + recording store for `seconds`; (cpu s, video s, segment bytes)."""
    engine = make_engine(f"sqlite:///{root / 'iris.db'}")
    with Session(engine) as session:
        camera = Camera(name="bench", rtsp_url=url)
        session.add(camera)
        session.commit()
        assert camera.id is not None
        camera_id = camera.id
    layout = Layout(root)
    recording = CameraRecording(engine=engine, layout=layout, camera_id=camera_id,
                                segment_seconds=SEGMENT_S)
    recording.start()
    sink = Sink(recording)
    reader = StreamReader(IngestOptions(url=url, decode=False), sink)
    reader.start()
    wait_for(lambda: sink.packets, 30, 0.05, f"packets from {url}")
    cpu = cpu_seconds()
    started = time.monotonic()
    time.sleep(seconds)  # the measured window
    spent, wall = cpu_seconds() - cpu, time.monotonic() - started
    reader.stop()
    recording.close()
    recording.stop()
    size = sum(p.stat().st_size for p in layout.segments(camera_id).glob("*.mp4"))
    return spent, wall, size


def measure(url: str, seconds: float, rounds: int, root: Path) -> dict[str, float]:
    bare, ours, rates = [], [], []
    for index in range(rounds):  # alternating, so the box's load hits both alike
        cpu, video = bare_remux(url, seconds, root / f"bare{index}")
        bare.append(cpu / video)
        cpu, wall, size = iris_recording(url, seconds, root / f"iris{index}")
        ours.append(cpu / wall)
        rates.append(size / wall)
    return {"bare": statistics.median(bare), "iris": statistics.median(ours),
            "bytes_per_s": statistics.median(rates)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    rows, cost = [], []
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        for label, size, kbps in (("720p", (1280, 720), 2000), ("1080p", (1920, 1080), 4000)):
            clip = cbr_clip(root / f"{label}.mp4", size, kbps)
            with RtspServer(to_annexb(clip), fps=FPS, log_path=root / f"{label}.log") as cam:
                got = measure(cam.url, args.seconds, args.rounds, root / label)
            rows.append((f"{label} H.264 {kbps / 1000:g} Mbps", f"{got['bare']:.4f}",
                         f"{got['iris']:.4f}", f"{got['iris'] / got['bare']:.2f}"))
            cost.append((f"{label} @ {kbps / 1000:g} Mbps CBR",
                         f"{got['bytes_per_s'] * 8 / 1e6:.2f}",
                         f"{got['bytes_per_s'] * 86400 / 1e9:.1f}",
                         f"{got['bytes_per_s'] * 86400 * 7 / 1e9:.0f}"))
        with ClockCamera(audio="pcma", width=1280, height=720, log_path=root / "g711.log") as cam:
            got = measure(cam.url, args.seconds, args.rounds, root / "g711")
        rows.append(("720p clock camera + G.711 → AAC", f"{got['bare']:.4f}",
                     f"{got['iris']:.4f}", f"{got['iris'] / got['bare']:.2f}"))
    text = "\n\n".join([
        "## Recording CPU per camera (no decoding on either side)",
        table(["stream", "bare PyAV remux, CPU s / s (baseline)", "Iris recording store",
               "ratio"], rows),
        "The G.711 row's bare loop records video only (MP4 cannot carry A-law); Iris also "
        "transcodes the sound to AAC.",
        "## Storage per camera-day (segments as written)",
        table(["stream", "recorded Mbit/s", "GB / day", "GB / 7 days"], cost),
    ])
    print(text)
    write_report("recording", text)


if __name__ == "__main__":
    main()
