"""StreamReader against a looping local file and a real GStreamer RTSP camera (no Ray)."""

from __future__ import annotations

import os
import socket
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import av
import pytest

from iris.actors.ingest import IngestOptions, StreamReader
from iris.recording.clip import assemble_clip
from iris.recording.segment import Segment
from iris.recording.writer import SegmentWriter
from iris.sources import SourcePolicy
from tests.support.clock_camera import ClockCamera
from tests.support.media import decode_errors, make_clip, probe, to_annexb
from tests.support.rtsp import RtspServer, gstreamer_available

FPS = 25


def wait_until(condition: Callable[[], bool], timeout: float, what: str) -> float:
    """Poll ``condition`` until true; return the seconds it took, fail after ``timeout``."""
    start = time.monotonic()
    while not condition():
        if time.monotonic() - start > timeout:
            pytest.fail(f"timed out after {timeout} s waiting for {what}")
        time.sleep(0.02)
    return time.monotonic() - start


def segments_in(directory: Path) -> list[Segment]:
    found = (Segment.from_path(path) for path in directory.glob("*.mp4"))
    return sorted(segment for segment in found if segment is not None)


class RecordingSink:
    """Remembers what a reader delivered; optionally records segments like a camera does."""

    def __init__(self, segments: Path | None = None, fail_frames: bool = False) -> None:
        self.lock = threading.Lock()
        self.stream_codecs: list[list[str]] = []
        self.dts: dict[int, list[int]] = {}
        self.frames = 0
        self.frame_times: list[float] = []
        self.shape: tuple[int, ...] | None = None
        self.statuses: list[tuple[str, str | None, float]] = []
        self.fail_frames = fail_frames
        self.writer = SegmentWriter(segments, 2.0) if segments is not None else None

    def on_open(self, container_streams: list) -> None:
        with self.lock:
            self.stream_codecs.append([s.codec_context.name for s in container_streams])
        if self.writer is not None:
            self.writer.open_streams(container_streams)

    def on_packet(self, packet) -> None:  # noqa: ANN001 - av.Packet
        if packet.dts is not None:
            with self.lock:
                self.dts.setdefault(packet.stream_index, []).append(packet.dts)
        if self.writer is not None:
            self.writer.write(packet, time.time())

    def on_frame(self, frame: av.VideoFrame, wall_time: float) -> None:
        if self.fail_frames:
            raise RuntimeError("sink bug")
        with self.lock:
            self.frames += 1
            self.frame_times.append(time.monotonic())
            self.shape = (frame.height, frame.width, 3)
        assert isinstance(frame, av.VideoFrame) and abs(wall_time - time.time()) < 1

    def on_status(self, status: str, reason: str | None) -> None:
        with self.lock:
            self.statuses.append((status, reason, time.monotonic()))

    def count(self, status: str) -> int:
        with self.lock:
            return sum(1 for s, _, _ in self.statuses if s == status)


@pytest.fixture(scope="module")
def media(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A 2 s 320x240 H.264 + AAC clip."""
    return make_clip(tmp_path_factory.mktemp("ingest") / "clip.mp4", seconds=2, size=(320, 240))


def local(path: Path, **kwargs: object) -> IngestOptions:
    """Options playing a local file, its folder being the server's local sources folder."""
    return IngestOptions(url=path.as_uri(), policy=SourcePolicy(local_dir=path.parent),
                         **kwargs)  # type: ignore[arg-type]


@pytest.fixture
def reader_factory() -> Iterator[Callable[..., StreamReader]]:
    readers: list[StreamReader] = []

    def build(options: IngestOptions, sink: RecordingSink) -> StreamReader:
        reader = StreamReader(options, sink)
        readers.append(reader)
        reader.start()
        return reader

    yield build
    for reader in readers:
        reader.stop(timeout=10)


def test_local_file_loops_in_real_time_into_segments(tmp_path: Path, media: Path,
                                                     reader_factory) -> None:
    sink = RecordingSink(segments=tmp_path)
    reader = reader_factory(local(media), sink)
    wait_until(lambda: sink.frames >= 5 * FPS + 1, 20, "5 s of frames")
    span = sink.frame_times[5 * FPS] - sink.frame_times[0]
    assert 4.5 < span < 5.8  # real time, not as fast as decoding allows
    assert abs(reader.fps - FPS) < 3
    assert reader.status == "online" and sink.shape == (240, 320, 3)
    reader.stop()
    assert sink.writer is not None
    sink.writer.close()

    assert sink.stream_codecs == [["h264", "aac"]]  # looping does not reopen
    for dts in sink.dts.values():  # timestamps keep rising across the loops
        assert all(b > a for a, b in zip(dts, dts[1:], strict=False))
    segments = segments_in(tmp_path)
    assert len(segments) >= 2
    assert all(abs(s.duration - 2.0) < 0.1 for s in segments[:-1])
    clip = tmp_path / "clip.mp4"
    duration = assemble_clip(segments, segments[0].start, segments[-1].end, clip)
    assert duration > 4.0 and decode_errors(clip) == ""


def test_stop_reports_stopped_promptly(media: Path, reader_factory) -> None:
    sink = RecordingSink()
    reader = reader_factory(local(media), sink)
    wait_until(lambda: sink.frames > 0, 10, "a frame")
    started = time.monotonic()
    reader.stop()
    assert time.monotonic() - started < 1.0
    assert reader.status == "stopped"
    assert [s for s, _, _ in sink.statuses] == ["connecting", "online", "stopped"]
    frames = sink.frames
    time.sleep(0.3)  # observing that nothing more arrives, not synchronising
    assert sink.frames == frames


def test_packets_only_without_decoding(media: Path, reader_factory) -> None:
    sink = RecordingSink()
    reader = reader_factory(local(media, decode=False), sink)
    wait_until(lambda: sum(map(len, sink.dts.values())) > 3 * FPS, 10, "packets")
    assert sink.frames == 0
    assert abs(reader.fps - FPS) < 3


def test_unreadable_source_errors_and_backs_off(tmp_path: Path, reader_factory) -> None:
    sink = RecordingSink()
    options = local(tmp_path / "missing.mp4", backoff_initial_s=0.1, backoff_max_s=0.4)
    reader = reader_factory(options, sink)
    wait_until(lambda: sink.count("connecting") >= 6, 10, "six attempts")
    assert reader.status in ("error", "connecting")
    assert "missing.mp4" in (reader.last_error or "")
    with sink.lock:
        times = [t for s, _, t in sink.statuses if s == "connecting"]
    gaps = [b - a for a, b in zip(times, times[1:], strict=False)]
    assert gaps[0] < 0.25 and 0.15 < gaps[1] < 0.35  # 0.1 s, then 0.2 s …
    assert all(0.3 < gap < 0.6 for gap in gaps[2:5])  # … capped at 0.4 s


def test_failing_sink_does_not_stop_ingest(media: Path, reader_factory) -> None:
    sink = RecordingSink(fail_frames=True)
    reader = reader_factory(local(media), sink)
    wait_until(lambda: sum(map(len, sink.dts.values())) > 2 * FPS, 10, "packets")
    assert reader.status == "online" and sink.count("error") == 0


@pytest.mark.parametrize(
    "kwargs",
    [{"transport": "http"}, {"timeout_s": 0}, {"backoff_initial_s": 5, "backoff_max_s": 1}],
)
def test_invalid_options_are_refused(kwargs: dict) -> None:
    with pytest.raises(ValueError):
        IngestOptions(url="rtsp://cam/x", **kwargs)


@pytest.mark.parametrize("url", [
    "file:concat:/etc/passwd|/etc/apt/trusted.gpg.d/debian-archive-bookworm-stable.asc",
    "file:///etc/passwd",
    "http://169.254.169.254/latest/meta-data/",
    "rtsp://admin:pa/ss@cam/s",
])
def test_refused_source_is_never_opened(url: str, tmp_path: Path, reader_factory) -> None:
    # A row stored before the policy existed: the reader refuses it at every attempt.
    sink = RecordingSink()
    options = IngestOptions(url=url, backoff_initial_s=0.1, backoff_max_s=0.2,
                            policy=SourcePolicy(local_dir=tmp_path))
    reader = reader_factory(options, sink)
    wait_until(lambda: sink.count("connecting") >= 3, 10, "three refused attempts")
    assert sink.stream_codecs == [] and sink.frames == 0  # never opened
    assert (reader.last_error or "").startswith("source refused: ")
    assert "pa/ss" not in (reader.last_error or "")
    with sink.lock:
        reasons = {r for s, r, _ in sink.statuses if s == "error"}
    assert reasons == {reader.last_error}


def test_fifo_source_cannot_block_the_reader(tmp_path: Path, reader_factory) -> None:
    # Opening a FIFO blocks in the kernel where no FFmpeg timeout reaches: never opened.
    fifo = tmp_path / "camera.mp4"
    os.mkfifo(fifo)
    sink = RecordingSink()
    reader = reader_factory(local(fifo, backoff_initial_s=0.1, backoff_max_s=0.2), sink)
    wait_until(lambda: sink.count("error") >= 2, 10, "the FIFO to be refused")
    assert "not a regular file" in (reader.last_error or "")
    started = time.monotonic()
    reader.stop(timeout=5)
    assert reader.status == "stopped", time.monotonic() - started


def test_silent_server_is_bounded_by_the_open_timeout(reader_factory) -> None:
    # A source that accepts TCP and never answers: each open ends within its timeout.
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen(8)
        held: list[socket.socket] = []
        threading.Thread(target=lambda: [held.append(server.accept()[0]) for _ in range(8)],
                         daemon=True).start()
        sink = RecordingSink()
        options = IngestOptions(url=f"rtsp://u:secret-pw@127.0.0.1:{server.getsockname()[1]}/x",
                                timeout_s=1.0, backoff_initial_s=0.1, backoff_max_s=0.1)
        reader = reader_factory(options, sink)
        wait_until(lambda: sink.count("error") >= 2, 30, "two bounded open attempts")
        assert "secret-pw" not in (reader.last_error or "")
        reader.stop(timeout=10)
        assert reader.status == "stopped"
        for connection in held:
            connection.close()


# -- a real RTSP camera ---------------------------------------------------------------------

rtsp = pytest.mark.skipif(not gstreamer_available(), reason="gst-rtsp-server not installed")


@pytest.fixture(scope="module")
def camera_media(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    mp4 = make_clip(tmp_path_factory.mktemp("rtsp") / "cam.mp4", seconds=4, size=(640, 360))
    return to_annexb(mp4), mp4


@pytest.fixture
def camera(camera_media: tuple[Path, Path], tmp_path: Path) -> Iterator[RtspServer]:
    video, audio = camera_media
    with RtspServer(video, audio_mp4=audio, fps=FPS, log_path=tmp_path / "rtsp.log") as server:
        yield server


@pytest.mark.integration
@rtsp
def test_rtsp_camera_at_source_rate_with_audio(tmp_path: Path, camera: RtspServer,
                                               reader_factory) -> None:
    sink = RecordingSink(segments=tmp_path / "seg")
    reader = reader_factory(IngestOptions(url=camera.url), sink)
    wait_until(lambda: reader.status == "online", 20, "online")
    wait_until(lambda: sink.frames > 3 * FPS, 10, "frames")
    first = sink.frames
    time.sleep(4.0)  # measuring a rate over a fixed window, not synchronising
    rate = (sink.frames - first) / 4.0
    assert abs(rate - FPS) < 2.5
    assert abs(reader.fps - FPS) < 3
    assert sink.stream_codecs == [["h264", "aac"]] and sink.shape == (360, 640, 3)
    reader.stop()
    assert sink.writer is not None
    sink.writer.close()
    segments = segments_in(tmp_path / "seg")
    clip = tmp_path / "clip.mp4"
    duration = assemble_clip(segments, segments[0].start, segments[-1].end, clip)
    assert duration > 4 and decode_errors(clip) == ""
    assert [s["codec_name"] for s in probe(clip)["streams"]] == ["h264", "aac"]


@pytest.mark.integration
@rtsp
@pytest.mark.parametrize("audio", ["pcma", "pcmu"])
def test_g711_sound_of_a_camera_is_recorded_as_aac(tmp_path: Path, reader_factory,
                                                   audio: str) -> None:
    """Many cameras send G.711, which MP4 cannot carry: it reaches the writer as it comes and
    the segments carry it as AAC (before, such sound was dropped)."""
    with ClockCamera(audio=audio, log_path=tmp_path / "camera.log") as camera:
        sink = RecordingSink(segments=tmp_path / "seg")
        reader = reader_factory(IngestOptions(url=camera.url), sink)
        wait_until(lambda: len(segments_in(tmp_path / "seg")) >= 2, 30, "two segments")
        reader.stop()
    assert sink.stream_codecs[0][1] in ("pcm_alaw", "pcm_mulaw")
    assert sink.writer is not None
    sink.writer.close()
    for segment in segments_in(tmp_path / "seg"):
        streams = {s["codec_type"]: s for s in probe(segment.path)["streams"]}
        assert (streams["audio"]["codec_name"], streams["audio"]["sample_rate"]) == \
            ("aac", "8000")
        assert decode_errors(segment.path) == ""


@pytest.mark.integration
@rtsp
def test_rtsp_reconnects_after_camera_is_killed(camera: RtspServer, reader_factory) -> None:
    sink = RecordingSink()
    options = IngestOptions(url=camera.url, timeout_s=2.0, backoff_initial_s=0.2,
                            backoff_max_s=1.0)
    reader = reader_factory(options, sink)
    wait_until(lambda: sink.frames > FPS, 20, "frames")
    camera.kill()
    wait_until(lambda: reader.status == "error", 5, "the reader to notice the dead camera")
    before = sink.frames
    camera.start()
    took = wait_until(lambda: reader.status == "online", 20, "the reader to reconnect")
    wait_until(lambda: sink.frames > before + FPS, 10, "frames after reconnecting")
    assert took < 8 and sink.count("online") == 2
    assert len(sink.stream_codecs) == 2  # the sink was told about the reopen


@pytest.mark.integration
@rtsp
def test_rtsp_stall_is_noticed_and_recovered(camera: RtspServer, reader_factory) -> None:
    sink = RecordingSink()
    options = IngestOptions(url=camera.url, timeout_s=1.0, backoff_initial_s=0.2,
                            backoff_max_s=1.0)
    reader = reader_factory(options, sink)
    wait_until(lambda: sink.frames > FPS, 20, "frames")
    camera.pause()
    try:
        noticed = wait_until(lambda: reader.status == "error", 10, "the stall to be noticed")
        assert noticed <= 2 * options.timeout_s
        assert "no data" in (reader.last_error or "")
        before = sink.frames
    finally:
        camera.resume()
    wait_until(lambda: reader.status == "online", 20, "the reader to recover")
    wait_until(lambda: sink.frames > before + FPS, 10, "frames after the stall")
