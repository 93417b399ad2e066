"""Reduced decoding of an idle camera: fewer frames decoded, every frame still recorded (no Ray)."""

from __future__ import annotations

import subprocess
import threading
from collections.abc import Callable, Iterator
from pathlib import Path

import av
import pytest

from iris.actors.ingest import IngestOptions, StreamReader
from tests.support.media import decode_errors, make_clip
from tests.unit.test_ingest import RecordingSink, local, segments_in, wait_until

FPS = 25
SEGMENT_S = 2.0


class FrameLog(RecordingSink):
    """A recording sink that also keeps (pts, keyframe) of every decoded frame."""

    def __init__(self, segments: Path | None = None) -> None:
        super().__init__(segments=segments)
        self.decoded: list[tuple[int, bool]] = []
        self.packets = 0

    def on_packet(self, packet) -> None:  # noqa: ANN001 - av.Packet
        super().on_packet(packet)
        if packet.stream.type == "video":
            with self.lock:
                self.packets += 1

    def on_frame(self, frame: av.VideoFrame, wall_time: float) -> None:
        super().on_frame(frame, wall_time)
        with self.lock:
            self.decoded.append((int(frame.pts), bool(frame.key_frame)))


@pytest.fixture(scope="module")
def media(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A 2 s 320x240 H.264 clip, a keyframe every second."""
    return make_clip(tmp_path_factory.mktemp("idle") / "clip.mp4", seconds=2, size=(320, 240),
                     audio=False)


@pytest.fixture
def start() -> Iterator[Callable[..., StreamReader]]:
    readers: list[StreamReader] = []

    def build(options: IngestOptions, sink: RecordingSink,
              may_reduce: Callable[[], bool]) -> StreamReader:
        reader = StreamReader(options, sink, may_reduce=may_reduce)
        readers.append(reader)
        reader.start()
        return reader

    yield build
    for reader in readers:
        reader.stop(timeout=10)


def frame_count(path: Path) -> int:
    """Frames ffprobe decodes in a file's video stream."""
    out = subprocess.run(
        ["ffprobe", "-v", "error", "-count_frames", "-select_streams", "v:0",
         "-show_entries", "stream=nb_read_frames", "-of", "csv=p=0", str(path)],
        check=True, capture_output=True, text=True)
    return int(out.stdout.strip())


def test_idle_keyframes_decodes_one_frame_per_gop_and_records_every_frame(
        tmp_path: Path, media: Path, start) -> None:
    sink = FrameLog(segments=tmp_path)
    reader = start(local(media, idle_decode="keyframes"), sink, lambda: True)
    wait_until(lambda: sink.packets >= 7 * FPS, 20, "7 s of packets")
    reader.stop()
    assert sink.writer is not None
    sink.writer.close()

    assert all(key for _, key in sink.decoded)  # only keyframes were decoded …
    assert abs(len(sink.decoded) - sink.packets / FPS) <= 1  # … one per second
    assert reader.packets_skipped >= sink.packets - len(sink.decoded) - 1
    assert reader.reducing
    assert abs(reader.fps - FPS) < 3  # the rate frames come in (and are recorded) at
    segments = segments_in(tmp_path)
    assert len(segments) >= 3
    for segment in segments[:-1]:  # the last one was cut short by the stop
        assert frame_count(segment.path) == round(SEGMENT_S * FPS), segment.path
        assert decode_errors(segment.path) == ""


def test_full_decode_resumes_at_the_next_keyframe_when_something_needs_it(
        media: Path, start) -> None:
    busy = threading.Event()
    sink = FrameLog()
    reader = start(local(media, idle_decode="keyframes"), sink, lambda: not busy.is_set())
    wait_until(lambda: len(sink.decoded) >= 2 and reader.packets_skipped > FPS, 10,
               "two idle keyframes")
    with sink.lock:
        idle_frames = len(sink.decoded)
    busy.set()
    wait_until(lambda: len(sink.decoded) >= idle_frames + 2 * FPS, 10, "two seconds decoded")
    with sink.lock:
        resumed = sink.decoded[idle_frames:]
    # From a keyframe on, every frame: nothing decoded against a frame that was skipped.
    step = resumed[1][0] - resumed[0][0]
    assert resumed[0][1] or (sink.decoded[idle_frames - 1][1]
                             and resumed[0][0] - sink.decoded[idle_frames - 1][0] == step)
    assert all(b[0] - a[0] == step for a, b in zip(resumed, resumed[1:], strict=False))
    assert not reader.reducing


def test_idle_reduced_skips_only_frames_nothing_refers_to(media: Path, start) -> None:
    sink = FrameLog()
    reader = start(local(media, idle_decode="reduced"), sink, lambda: True)
    wait_until(lambda: sink.packets >= 2 * FPS, 10, "2 s of packets")
    assert reader.reducing
    # This stream's P-frames are all references (no B-frames): every frame still decodes.
    with sink.lock:
        assert len(sink.decoded) >= sink.packets - 2


def test_all_decodes_every_frame_even_when_idle(media: Path, start) -> None:
    sink = FrameLog()
    reader = start(local(media), sink, lambda: True)
    wait_until(lambda: sink.packets >= 2 * FPS, 10, "2 s of packets")
    assert not reader.reducing and reader.packets_skipped == 0
    with sink.lock:
        assert len(sink.decoded) >= sink.packets - 2


def test_unknown_idle_decode_is_refused() -> None:
    with pytest.raises(ValueError, match="idle_decode must be one of all, reduced, keyframes"):
        IngestOptions(url="rtsp://cam/x", idle_decode="some")
