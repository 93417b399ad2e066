"""Segment ring buffer and clip assembly on real H.264/H.265 + AAC files (no Ray)."""

from __future__ import annotations

import os
from pathlib import Path

import av
import cv2
import pytest

from iris.actors.segments import (
    ClipUnavailable,
    Segment,
    SegmentBuffer,
    SegmentWriter,
    assemble_clip,
    make_thumbnail,
)
from tests.support.media import decode_errors, is_faststart, make_clip, probe

WALL0 = 1_700_000_000.0
FPS = 25


@pytest.fixture(scope="module")
def clip8(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """8 s, 25 fps, GOP 1 s, H.264 + AAC."""
    return make_clip(tmp_path_factory.mktemp("media") / "clip8.mp4", seconds=8, size=(640, 360))


def record(source: Path, directory: Path, wall0: float = WALL0, *, skip: int = 0,
           burst_until: float = 0.0, writer: SegmentWriter | None = None) -> SegmentWriter:
    """Feed every packet of ``source`` to a writer as if it arrived live at wall0 + media time.

    Packets before ``burst_until`` (media seconds) all arrive at once at wall0 + burst_until,
    as the buffered packets of an RTSP open do.
    """
    writer = writer or SegmentWriter(directory, segment_seconds=2.0)
    with av.open(str(source)) as container:
        streams = [container.streams.video[0], container.streams.audio[0]]
        writer.open_streams(streams)
        video_seen = 0
        for packet in container.demux(streams):
            if packet.size == 0:
                continue
            if packet.stream.type == "video":
                video_seen += 1
                if video_seen <= skip:
                    continue
            t = float(packet.dts * packet.time_base)  # type: ignore[operator]
            writer.write(packet, wall0 + max(t, burst_until))
    return writer


def count_packets(path: Path) -> dict[str, int]:
    with av.open(str(path)) as container:
        counts: dict[str, int] = {}
        for packet in container.demux():
            if packet.size:
                counts[packet.stream.type] = counts.get(packet.stream.type, 0) + 1
        return counts


def test_segments_cut_on_keyframes_every_two_seconds(tmp_path: Path, clip8: Path) -> None:
    record(clip8, tmp_path).close()
    segments = SegmentBuffer(tmp_path, retention_seconds=3600).segments()

    assert [round(s.start - WALL0, 3) for s in segments] == [0.0, 2.0, 4.0, 6.0]
    assert [round(s.duration, 3) for s in segments] == [2.0, 2.0, 2.0, 2.0]
    for segment in segments:
        info = probe(segment.path)
        assert [s["codec_name"] for s in info["streams"]] == ["h264", "aac"]
        assert float(info["streams"][0]["start_time"]) == 0.0
        assert abs(float(info["format"]["duration"]) - 2.0) < 0.06
        assert is_faststart(segment.path)
        assert decode_errors(segment.path) == ""
    assert not list(tmp_path.glob("*.part"))


def test_no_video_or_audio_is_lost_between_segments(tmp_path: Path, clip8: Path) -> None:
    record(clip8, tmp_path).close()
    totals: dict[str, int] = {}
    for segment in SegmentBuffer(tmp_path, 3600).segments():
        for kind, n in count_packets(segment.path).items():
            totals[kind] = totals.get(kind, 0) + n
    original = count_packets(clip8)
    assert totals["video"] == original["video"]
    # Only the AAC priming packet (negative timestamp, before the first keyframe) is dropped.
    assert totals["audio"] >= original["audio"] - 1


def test_hevc_segments_are_playable_hvc1(tmp_path: Path) -> None:
    source = make_clip(tmp_path / "hevc.mp4", seconds=4, size=(640, 360), codec="hevc")
    record(source, tmp_path / "seg").close()
    segments = SegmentBuffer(tmp_path / "seg", 3600).segments()
    assert len(segments) == 2
    video = probe(segments[0].path)["streams"][0]
    assert (video["codec_name"], video["codec_tag_string"]) == ("hevc", "hvc1")
    assert all(decode_errors(s.path) == "" for s in segments)


def test_first_segment_waits_for_a_keyframe(tmp_path: Path, clip8: Path) -> None:
    record(clip8, tmp_path, skip=10).close()  # start mid-GOP
    segments = SegmentBuffer(tmp_path, 3600).segments()
    assert round(segments[0].start - WALL0, 3) == 1.0
    assert decode_errors(segments[0].path) == ""


def test_burst_of_buffered_packets_does_not_shift_wall_clock(tmp_path: Path, clip8: Path) -> None:
    record(clip8, tmp_path, burst_until=2.1).close()
    segments = SegmentBuffer(tmp_path, 3600).segments()
    # The first 2.1 s arrived at once, late; the packets at the live edge pin media time 0
    # to WALL0 (naive arrival stamps would put the first segment 2.1 s late).
    assert abs(segments[0].start - WALL0) < 0.15
    assert [round(s.start - WALL0, 3) for s in segments[1:]] == [2.0, 4.0, 6.0]


def test_packets_without_timestamps_and_repeated_dts_are_skipped(tmp_path: Path,
                                                                 clip8: Path) -> None:
    writer = SegmentWriter(tmp_path, 2.0)
    with av.open(str(clip8)) as container:
        video = container.streams.video[0]
        writer.open_streams([video])
        for packet in container.demux(video):
            if packet.size == 0:
                continue
            wall = WALL0 + float(packet.dts * packet.time_base)  # type: ignore[operator]
            stamped = av.Packet(bytes(packet))
            stamped.time_base = packet.time_base
            writer.write(stamped, wall)  # no pts/dts: skipped
            writer.write(packet, wall)
            writer.write(packet, wall)  # same DTS again: dropped
    writer.close()
    segments = SegmentBuffer(tmp_path, 3600).segments()
    assert sum(count_packets(s.path)["video"] for s in segments) == 8 * FPS
    assert all(decode_errors(s.path) == "" for s in segments)


def test_open_part_file_is_not_listed_and_unfinalized_close_discards_it(tmp_path: Path,
                                                                        clip8: Path) -> None:
    writer = record(clip8, tmp_path)
    buffer = SegmentBuffer(tmp_path, 3600)
    assert len(list(tmp_path.glob("*.mp4.part"))) == 1
    assert len(buffer.segments()) == 3
    writer.close(finalize=False)
    assert not list(tmp_path.glob("*.part"))
    assert len(buffer.segments()) == 3


def test_reopening_streams_finalizes_the_open_segment(tmp_path: Path, clip8: Path) -> None:
    completed: list[Segment] = []
    writer = SegmentWriter(tmp_path, 2.0, on_segment=completed.append)
    record(clip8, tmp_path, writer=writer)
    record(clip8, tmp_path, wall0=WALL0 + 100, writer=writer)  # a reconnect: timestamps restart
    writer.close()
    assert len(completed) == 8
    assert completed == SegmentBuffer(tmp_path, 3600).segments()
    assert round(completed[4].start - WALL0, 3) == 100.0


def test_prune_removes_expired_segments_and_stale_parts(tmp_path: Path) -> None:
    for start in (0, 10, 20, 30):
        (tmp_path / f"{(WALL0 + start) * 1000:.0f}-{(WALL0 + start + 2) * 1000:.0f}.mp4").touch()
    stale, fresh = tmp_path / "1.mp4.part", tmp_path / "2.mp4.part"
    stale.touch()
    fresh.touch()
    os.utime(stale, (WALL0 - 600, WALL0 - 600))
    os.utime(fresh, (WALL0 + 40, WALL0 + 40))
    (tmp_path / "notes.txt").touch()
    buffer = SegmentBuffer(tmp_path, retention_seconds=20)

    assert buffer.prune(now=WALL0 + 40) == 3  # segments ending at +2 and +12, the stale part
    assert [round(s.start - WALL0) for s in buffer.segments()] == [20, 30]
    assert fresh.exists() and not stale.exists()
    assert (tmp_path / "notes.txt").exists()


def test_discard_partials_after_unclean_stop(tmp_path: Path, clip8: Path) -> None:
    record(clip8, tmp_path)  # never closed: as after a crash
    buffer = SegmentBuffer(tmp_path, 3600)
    assert buffer.discard_partials() == 1
    assert not list(tmp_path.glob("*.part"))
    assert len(buffer.segments()) == 3


def clip_checks(path: Path, expected: float, returned: float) -> None:
    info = probe(path)
    assert [s["codec_name"] for s in info["streams"]] == ["h264", "aac"]
    assert abs(returned - expected) <= 1.0
    assert abs(float(info["format"]["duration"]) - returned) < 0.1
    assert is_faststart(path)
    assert decode_errors(path) == ""
    assert not path.with_name(path.name + ".part").exists()


@pytest.mark.parametrize(("start", "end"), [(1.5, 6.2), (0.0, 8.0), (4.4, 5.0), (-3.0, 3.0)])
def test_clip_covers_the_requested_window(tmp_path: Path, clip8: Path, start: float,
                                          end: float) -> None:
    record(clip8, tmp_path / "seg").close()
    segments = SegmentBuffer(tmp_path / "seg", 3600).segments()
    out = tmp_path / "clips" / "clip.mp4"
    duration = assemble_clip(segments, WALL0 + start, WALL0 + end, out)
    clip_checks(out, min(end, 8.0) - max(start, 0.0), duration)


def test_clip_closes_gaps_between_recordings(tmp_path: Path, clip8: Path) -> None:
    writer = record(clip8, tmp_path / "seg")
    record(clip8, tmp_path / "seg", wall0=WALL0 + 30, writer=writer)
    writer.close()
    segments = SegmentBuffer(tmp_path / "seg", 3600).segments()
    out = tmp_path / "clip.mp4"
    duration = assemble_clip(segments, WALL0 + 4, WALL0 + 34, out)
    clip_checks(out, 8.0, duration)  # 4 s of each recording, without the 22 s hole


def test_clip_stops_at_segments_with_other_streams(tmp_path: Path, clip8: Path) -> None:
    other = make_clip(tmp_path / "other.mp4", seconds=4, size=(320, 240))
    writer = record(clip8, tmp_path / "seg")
    record(other, tmp_path / "seg", wall0=WALL0 + 8, writer=writer)
    writer.close()
    segments = SegmentBuffer(tmp_path / "seg", 3600).segments()
    assert len(segments) == 6
    out = tmp_path / "clip.mp4"
    duration = assemble_clip(segments, WALL0 + 4, WALL0 + 12, out)
    clip_checks(out, 4.0, duration)


def test_clip_outside_recordings_is_unavailable(tmp_path: Path, clip8: Path) -> None:
    record(clip8, tmp_path / "seg").close()
    segments = SegmentBuffer(tmp_path / "seg", 3600).segments()
    with pytest.raises(ClipUnavailable):
        assemble_clip(segments, WALL0 + 100, WALL0 + 110, tmp_path / "clip.mp4")
    with pytest.raises(ClipUnavailable):
        assemble_clip([], WALL0, WALL0 + 1, tmp_path / "clip.mp4")
    assert not list(tmp_path.glob("clip.mp4*"))


def test_thumbnail_is_a_jpeg_of_the_first_frame(tmp_path: Path, clip8: Path) -> None:
    thumb = make_thumbnail(clip8, tmp_path / "thumbs" / "t.jpg", max_width=320)
    image = cv2.imread(str(thumb))
    assert image is not None and image.shape == (180, 320, 3)
    assert image.std() > 10  # a picture, not a flat colour
