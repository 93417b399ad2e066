"""The segment writer on real H.264/H.265 + AAC files (no Ray): cuts, timestamps, wall clock."""

from __future__ import annotations

from pathlib import Path

import av
import pytest

from iris.recording.segment import Segment
from iris.recording.writer import SegmentWriter
from tests.support.media import decode_errors, is_faststart, make_clip, probe
from tests.unit.recording.support import (
    FPS,
    WALL0,
    count_packets,
    g711_clip,
    record,
    segments_in,
)


def test_segments_cut_on_keyframes_every_two_seconds(tmp_path: Path, clip8: Path) -> None:
    record(clip8, tmp_path).close()
    segments = segments_in(tmp_path)

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
    for segment in segments_in(tmp_path):
        for kind, n in count_packets(segment.path).items():
            totals[kind] = totals.get(kind, 0) + n
    original = count_packets(clip8)
    assert totals["video"] == original["video"]
    # Only the AAC priming packet (negative timestamp, before the first keyframe) is dropped.
    assert totals["audio"] >= original["audio"] - 1


def test_hevc_segments_are_playable_hvc1(tmp_path: Path) -> None:
    source = make_clip(tmp_path / "hevc.mp4", seconds=4, size=(640, 360), codec="hevc")
    record(source, tmp_path / "seg").close()
    segments = segments_in(tmp_path / "seg")
    assert len(segments) == 2
    video = probe(segments[0].path)["streams"][0]
    assert (video["codec_name"], video["codec_tag_string"]) == ("hevc", "hvc1")
    assert all(decode_errors(s.path) == "" for s in segments)


def test_first_segment_waits_for_a_keyframe(tmp_path: Path, clip8: Path) -> None:
    record(clip8, tmp_path, skip=10).close()  # start mid-GOP
    segments = segments_in(tmp_path)
    assert round(segments[0].start - WALL0, 3) == 1.0
    assert decode_errors(segments[0].path) == ""


def test_burst_of_buffered_packets_does_not_shift_wall_clock(tmp_path: Path, clip8: Path) -> None:
    record(clip8, tmp_path, burst_until=2.1).close()
    segments = segments_in(tmp_path)
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
    segments = segments_in(tmp_path)
    assert sum(count_packets(s.path)["video"] for s in segments) == 8 * FPS
    assert all(decode_errors(s.path) == "" for s in segments)


def test_open_part_file_is_not_listed_and_unfinalized_close_discards_it(tmp_path: Path,
                                                                        clip8: Path) -> None:
    writer = record(clip8, tmp_path)
    assert len(list(tmp_path.glob("*.mp4.part"))) == 1
    assert len(segments_in(tmp_path)) == 3
    writer.close(finalize=False)
    assert not list(tmp_path.glob("*.part"))
    assert len(segments_in(tmp_path)) == 3


def test_reopening_streams_finalizes_the_open_segment(tmp_path: Path, clip8: Path) -> None:
    completed: list[Segment] = []
    writer = SegmentWriter(tmp_path, 2.0, on_segment=completed.append)
    record(clip8, tmp_path, writer=writer)
    record(clip8, tmp_path, wall0=WALL0 + 100, writer=writer)  # a reconnect: timestamps restart
    writer.close()
    assert len(completed) == 8
    assert [(s.start, s.end, s.path) for s in completed] == \
        [(s.start, s.end, s.path) for s in segments_in(tmp_path)]
    assert round(completed[4].start - WALL0, 3) == 100.0


def test_a_requested_cut_ends_the_segment_at_the_next_keyframe_after_it(tmp_path: Path,
                                                                        clip8: Path) -> None:
    writer = SegmentWriter(tmp_path, segment_seconds=6.0)
    writer.request_cut(at=WALL0 + 2.5)  # an event closed at +2.5 s: index its tail soon
    record(clip8, tmp_path, writer=writer).close()
    segments = segments_in(tmp_path)
    assert [round(s.start - WALL0, 3) for s in segments] == [0.0, 3.0]
    assert [round(s.duration, 3) for s in segments] == [3.0, 5.0]
    assert all(decode_errors(s.path) == "" for s in segments)


def test_segments_carry_what_the_index_stores(tmp_path: Path, clip8: Path) -> None:
    done: list[Segment] = []
    record(clip8, tmp_path, writer=SegmentWriter(tmp_path, 2.0, on_segment=done.append)).close()
    assert len(done) == 4
    for segment in done:
        assert segment.bytes == segment.path.stat().st_size
        assert segment.has_audio and segment.keyframes == 2  # GOP 1 s, 2 s segments
        assert segment.activity is not None and 0 < segment.activity < 1


@pytest.mark.parametrize("codec", ["pcm_alaw", "pcm_mulaw"])
def test_g711_sound_is_recorded_as_aac(tmp_path: Path, clip8: Path, codec: str) -> None:
    source = g711_clip(clip8, tmp_path / f"{codec}.mov", codec)
    done: list[Segment] = []
    writer = SegmentWriter(tmp_path / "seg", 2.0, on_segment=done.append)
    with av.open(str(source)) as container:
        streams = [container.streams.video[0], container.streams.audio[0]]
        assert streams[1].codec_context.name == codec
        writer.open_streams(streams)
        for packet in container.demux(streams):
            if packet.size:
                writer.write(packet, WALL0 + float(packet.dts * packet.time_base))  # type: ignore[operator]
    writer.close()
    assert len(done) == 4 and all(s.has_audio for s in done)
    for segment in done:
        info = probe(segment.path)
        audio = next(s for s in info["streams"] if s["codec_type"] == "audio")
        assert (audio["codec_name"], audio["sample_rate"], audio["channels"]) == \
            ("aac", "8000", 1)
        # Its AudioSpecificConfig is stored: players (and MPEG-TS's ADTS headers) need it.
        assert int(audio.get("extradata_size", 0)) > 0, audio
        assert decode_errors(segment.path) == ""
        if segment is not done[-1]:  # the encoder's last ~0.3 s are lost when a stream ends
            # The sound lasts as long as the picture (give or take an AAC frame at the cut).
            assert abs(float(audio["duration"]) - 2.0) < 0.15, audio
