"""The live fragmented-MP4 producer, fed a camera's packets from a file (no Ray, no network)."""

from __future__ import annotations

import json
import socket
import subprocess
from collections.abc import Iterator
from pathlib import Path

import av
import pytest

from iris.live import fmp4
from iris.live.boxes import base_decode_time, iter_boxes
from iris.live.fmp4 import Fragment, LiveInit, LiveMp4, LiveUnavailable
from iris.live.push import END, HEADER, KEYFRAME, FragmentPush
from tests.support.media import make_clip


class Camera:
    """A clip's demuxed streams and packets, handed to a producer like the ingest does."""

    def __init__(self, path: Path) -> None:
        self.container = av.open(str(path))
        self.streams = [self.container.streams.video[0], *self.container.streams.audio[:1]]
        self.packets = [p for p in self.container.demux(self.streams) if p.size]
        self.video_index = self.streams[0].index
        self.fps = float(self.streams[0].average_rate or 25)

    def feed(self, live: LiveMp4, seconds: float, start: float = 0.0) -> None:
        """Every packet whose time lies in [start, start + seconds)."""
        for packet in self.packets:
            ts = packet.dts if packet.dts is not None else packet.pts
            t = float(ts * packet.time_base) if ts is not None else 0.0
            if start <= t < start + seconds:
                live.packet(packet)


@pytest.fixture(scope="module")
def clip(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("live")
    return make_clip(folder / "cam.mp4", seconds=8, fps=20, size=(320, 180), audio=True,
                     gop_seconds=2.0)


@pytest.fixture
def camera(clip: Path) -> Iterator[Camera]:
    camera = Camera(clip)
    yield camera
    camera.container.close()


def opened(camera: Camera, **kwargs: float) -> LiveMp4:
    live = LiveMp4(**kwargs)
    live.open_streams(camera.streams)
    return live


def init_of(live: LiveMp4) -> LiveInit:
    init = live.init(0.0)
    assert isinstance(init, LiveInit), init
    return init


def probe_packets(path: Path) -> dict[str, list[dict]]:
    out = subprocess.run(["ffprobe", "-v", "error", "-show_packets", "-show_streams",
                          "-of", "json", str(path)], check=True, capture_output=True, text=True)
    data = json.loads(out.stdout)
    kinds = {s["index"]: s["codec_type"] for s in data["streams"]}
    packets: dict[str, list[dict]] = {"video": [], "audio": []}
    for packet in data["packets"]:
        packets[kinds[packet["stream_index"]]].append(packet)
    return {**packets, "streams": data["streams"]}


def test_nothing_is_muxed_while_nobody_watches(camera: Camera) -> None:
    live = opened(camera)
    camera.feed(live, 6)
    assert not live.running and live.sessions == 0 and live.fragments_made == 0


def test_a_viewer_gets_playable_fragments_from_a_keyframe(camera: Camera, tmp_path: Path) -> None:
    live = opened(camera)
    camera.feed(live, 3)  # mid-GOP: the producer kept the packets since the keyframe at 2 s
    init = init_of(live)
    assert init.codecs.startswith("avc1.64") and init.codecs.endswith(",mp4a.40.2")
    assert (init.width, init.height, init.audio) == (320, 180, True)
    camera.feed(live, 5, start=3)
    fragments = live.fragments(init.epoch, -1, 0.0)
    assert fragments, "no fragment"
    every = live.fragments(init.epoch, 0, 0.0)
    assert every is not None and every[0].keyframe and every[0].seq == 1

    captured = tmp_path / "live.mp4"
    captured.write_bytes(init.data + b"".join(f.data for f in every))
    probed = probe_packets(captured)
    video = [s for s in probed["streams"] if s["codec_type"] == "video"][0]
    assert (video["codec_name"], video["width"], video["height"]) == ("h264", 320, 180)
    assert [s["codec_name"] for s in probed["streams"]] == ["h264", "aac"]
    assert probed["video"][0]["flags"].startswith("K")
    for kind in ("video", "audio"):
        dts = [int(p["dts"]) for p in probed[kind]]
        assert dts == sorted(set(dts)), f"{kind} timestamps not increasing"
    # From 2 s (the cached keyframe) to 8 s: every frame, none lost in the hand-over.
    assert len(probed["video"]) >= round(5.5 * camera.fps)


def test_fragments_last_at_most_half_a_second_and_each_keyframe_opens_one(
        camera: Camera) -> None:
    live = opened(camera)
    init = init_of(live)
    camera.feed(live, 8)
    fragments = live.fragments(init.epoch, 0, 0.0)
    assert fragments is not None and len(fragments) >= 12
    starts = [_start_s(init, f) for f in fragments]
    lengths = [b - a for a, b in zip(starts, starts[1:], strict=False)]
    assert max(lengths) <= 0.5 + 1 / camera.fps, lengths
    keyframes = [round(s, 2) for s, f in zip(starts, fragments, strict=True) if f.keyframe]
    assert keyframes == [0.0, 2.0, 4.0, 6.0]  # a GOP of 2 s: one keyframe fragment each
    assert [f.seq for f in fragments] == list(range(1, len(fragments) + 1))


def _start_s(init: LiveInit, fragment: Fragment) -> float:
    timescale = _video_timescale(init.data)
    value = base_decode_time(fragment.data, 1)
    assert value is not None
    return value / timescale


def _video_timescale(init: bytes) -> int:
    import struct

    from iris.live.boxes import find

    mdhd = find(init, [b"moov", b"trak", b"mdia", b"mdhd"])[0]
    version = init[mdhd.start]
    return int(struct.unpack_from(">I", init, mdhd.start + (20 if version else 12))[0])


def test_a_reopened_stream_ends_the_epoch(camera: Camera) -> None:
    live = opened(camera)
    first = init_of(live)
    camera.feed(live, 2)
    live.open_streams(camera.streams)  # the camera reconnected
    assert live.fragments(first.epoch, 0, 0.0) is None
    camera.feed(live, 3)
    second = init_of(live)
    assert second.epoch != first.epoch and second.codecs == first.codecs


def test_a_session_nobody_asks_for_stops(camera: Camera) -> None:
    now = [0.0]
    live = opened(camera, idle_s=10.0, clock=lambda: now[0])
    init = init_of(live)
    camera.feed(live, 2)
    assert live.running
    now[0] = 11.0
    camera.feed(live, 1, start=2)
    assert not live.running
    assert live.fragments(init.epoch, 0, 0.0) is None


def test_no_video_yet_says_so(camera: Camera) -> None:
    live = LiveMp4()
    got = live.init(0.0)
    assert isinstance(got, LiveUnavailable) and "no video" in got.reason


def test_the_ring_keeps_recent_fragments_only(camera: Camera,
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("iris.live.fmp4.RING_FRAGMENTS", 4)
    live = opened(camera)
    init = init_of(live)
    camera.feed(live, 8)
    kept = live.fragments(init.epoch, 0, 0.0)
    assert kept is not None and len(kept) == 4 and kept[-1].seq == live.fragments_made
    newest_key = live.fragments(init.epoch, -1, 0.0)
    assert newest_key is not None and (not newest_key or newest_key[0].keyframe)


@pytest.mark.parametrize("codec", ["hevc"])
def test_h265_is_remuxed_as_hvc1(tmp_path: Path, codec: str) -> None:
    camera = Camera(make_clip(tmp_path / "h265.mp4", seconds=3, fps=10, size=(320, 180),
                              audio=False, codec=codec))
    try:
        live = opened(camera)
        init = init_of(live)
        camera.feed(live, 3)
        fragments = live.fragments(init.epoch, 0, 0.0)
        assert init.codecs.startswith("hvc1.1.") and not init.audio
        assert fragments and fragments[0].keyframe
        assert any(b.type == b"moov" for b in iter_boxes(init.data))
    finally:
        camera.container.close()


def test_follow_streams_batches_then_ends_with_the_epoch(camera: Camera) -> None:
    live = opened(camera)
    init = init_of(live)
    camera.feed(live, 2)
    stream = live.follow(init.epoch, 0, 0.0, 60.0)
    first = next(stream)
    assert first and first == live.fragments(init.epoch, 0, 0.0)
    assert next(stream) == []  # nothing new within the wait: an empty batch, not an end
    camera.feed(live, 2, start=2)
    more = next(stream)
    assert more and more[0].seq == first[-1].seq + 1  # from where the last batch ended
    live.open_streams(camera.streams)  # the camera reconnected: that epoch is over
    assert next(stream) is None
    assert next(stream, "ended") == "ended"


def test_follow_stops_when_its_reader_left_or_its_span_is_over(camera: Camera) -> None:
    now = [0.0]
    live = opened(camera, clock=lambda: now[0])
    init = init_of(live)
    gone = [False]
    stream = live.follow(init.epoch, 0, 0.0, 60.0, stop=lambda: gone[0])
    assert next(stream) == []
    gone[0] = True
    assert next(stream, "ended") == "ended"
    spanned = live.follow(init.epoch, 0, 0.0, 5.0)
    assert next(spanned) == []
    now[0] = 5.0
    assert next(spanned, "ended") == "ended"


def read_pushed(sock: socket.socket) -> list[Fragment | None]:
    """What a push wrote, until its END frame (None) or the socket closed."""
    sock.settimeout(5.0)
    got: list[Fragment | None] = []
    buffer = b""
    while True:
        chunk = sock.recv(1 << 20)
        if not chunk:
            return got
        buffer += chunk
        while len(buffer) >= HEADER.size:
            seq, flags, size = HEADER.unpack(buffer[:HEADER.size])
            if flags & END:
                return [*got, None]
            if len(buffer) < HEADER.size + size:
                break
            got.append(Fragment(seq, bool(flags & KEYFRAME),
                                buffer[HEADER.size:HEADER.size + size]))
            buffer = buffer[HEADER.size + size:]


def test_a_push_writes_from_the_newest_keyframe_then_each_new_fragment(camera: Camera) -> None:
    live = opened(camera)
    init = init_of(live)
    camera.feed(live, 3)
    ring = live.fragments(init.epoch, 0, 0.0)
    assert ring
    ours, reader = socket.socketpair()
    ours.setblocking(False)
    assert live.push(FragmentPush(ours, init.epoch), -1)
    camera.feed(live, 3, start=3)
    live.open_streams(camera.streams)  # the camera reconnected: the push says END
    got = read_pushed(reader)
    assert got[-1] is None and got[0] is not None and got[0].keyframe
    pushed = [f for f in got if f is not None]
    assert [f.seq for f in pushed] == list(range(pushed[0].seq, pushed[-1].seq + 1))
    assert pushed[0] == live_newest_key(ring) and pushed[-1].seq > ring[-1].seq
    reader.close()


def live_newest_key(ring: list[Fragment]) -> Fragment:
    return [f for f in ring if f.keyframe][-1]


def test_a_push_keeps_the_session_wanted_and_an_ended_epoch_refuses_it(camera: Camera) -> None:
    now = [0.0]
    live = opened(camera, idle_s=10.0, clock=lambda: now[0])
    init = init_of(live)
    ours, reader = socket.socketpair()
    ours.setblocking(False)
    assert live.push(FragmentPush(ours, init.epoch), 0)
    now[0] = 30.0  # long past idle_s without a call: the open push still watches
    camera.feed(live, 2)
    assert live.running
    reader.close()  # the reader left: its push ends, then the session idles out
    camera.feed(live, 2, start=2)
    now[0] = 60.0
    camera.feed(live, 2, start=4)
    assert not live.running
    late, _ = socket.socketpair()
    assert not live.push(FragmentPush(late, init.epoch), 0)


def test_packets_wait_for_a_small_batch_except_where_a_fragment_may_end(
        camera: Camera) -> None:
    now = [0.0]
    live = opened(camera, clock=lambda: now[0])
    video = [p for p in camera.packets if p.stream_index == camera.video_index]
    for packet in video[1:4]:
        live.packet(packet)
    assert live.held == 3  # the clock stood still and the batch is not full
    now[0] += fmp4.HOLD_S
    live.packet(video[4])
    assert live.held == 0
    for packet in video[5:5 + fmp4.HOLD_PACKETS]:
        live.packet(packet)
    assert live.held == 0  # a full batch is handled at once, whatever the clock
    init_of(live)  # someone watches: a keyframe may end a fragment, and is muxed at once
    keyframe = next(p for p in video[5 + fmp4.HOLD_PACKETS:] if p.is_keyframe)
    live.packet(keyframe)
    assert live.held == 0
