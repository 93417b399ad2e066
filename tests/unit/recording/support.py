"""Feeding real media files to the recording code as if they arrived live (no Ray)."""

from __future__ import annotations

from pathlib import Path

import av

from iris.recording.segment import Segment
from iris.recording.writer import SegmentWriter

WALL0 = 1_700_000_000.0
FPS = 25


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


def segments_in(directory: Path) -> list[Segment]:
    """The finished segments of a folder, oldest first."""
    found = (Segment.from_path(path) for path in directory.glob("*.mp4"))
    return sorted(segment for segment in found if segment is not None)


def count_packets(path: Path) -> dict[str, int]:
    with av.open(str(path)) as container:
        counts: dict[str, int] = {}
        for packet in container.demux():
            if packet.size:
                counts[packet.stream.type] = counts.get(packet.stream.type, 0) + 1
        return counts


def g711_clip(source: Path, out: Path, codec: str) -> Path:
    """`source` (H.264 + AAC MP4) with its sound as G.711 at 8 kHz mono, in QuickTime (MP4
    cannot carry G.711; RTSP cameras send it as it is)."""
    with av.open(str(source)) as src, av.open(str(out), "w", format="mov") as dst:
        video_in, audio_in = src.streams.video[0], src.streams.audio[0]
        video_out = dst.add_stream_from_template(video_in)
        audio_out = dst.add_stream(codec, rate=8000, layout="mono")
        resampler = av.AudioResampler(format="s16", layout="mono", rate=8000)
        for packet in src.demux(video_in, audio_in):
            if packet.size == 0:
                continue
            if packet.stream.type == "video":
                packet.stream = video_out
                dst.mux(packet)
                continue
            for frame in packet.decode():
                for resampled in resampler.resample(frame):
                    dst.mux(audio_out.encode(resampled))
        dst.mux(audio_out.encode(None))
    return out
