"""HLS VOD over the recording store: a playlist of stored segments, each remuxed to MPEG-TS
on request (no Ray, no transcoding).

A stored segment is a faststart MP4 with timestamps from zero, which is not an HLS segment;
remuxing one to MPEG-TS takes milliseconds and shifts its timestamps to its position in the
playlist, so the player sees one continuous timeline (gaps closed up, like clips) and each
segment's wall-clock start is in `#EXT-X-PROGRAM-DATE-TIME`.
"""

from __future__ import annotations

import io
import math
from datetime import UTC, datetime
from fractions import Fraction

import av

from iris.recording.segment import Segment, add_stream, time_base

TS_MEDIA_TYPE = "video/mp2t"
PLAYLIST_MEDIA_TYPE = "application/vnd.apple.mpegurl"


def segment_uri(segment: Segment, position: float) -> str:
    """The segment's URI relative to the playlist (`…/{camera}/playlist.m3u8`)."""
    return f"segments/{segment.id}.ts?at={round(position * 1000)}"


def render_playlist(segments: list[Segment]) -> str:
    """An `#EXT-X-PLAYLIST-TYPE:VOD` playlist over `segments` (oldest first, from the index)."""
    target = max((math.ceil(s.duration) for s in segments), default=1)
    lines = ["#EXTM3U", "#EXT-X-VERSION:3", f"#EXT-X-TARGETDURATION:{max(1, target)}",
             "#EXT-X-MEDIA-SEQUENCE:0", "#EXT-X-PLAYLIST-TYPE:VOD", "#EXT-X-INDEPENDENT-SEGMENTS"]
    position = 0.0
    previous: Segment | None = None
    for segment in segments:
        if previous is not None and previous.has_audio != segment.has_audio:
            lines.append("#EXT-X-DISCONTINUITY")  # the track set changed: reset the decoder
        started = datetime.fromtimestamp(segment.start, UTC).isoformat(timespec="milliseconds")
        lines += [f"#EXT-X-PROGRAM-DATE-TIME:{started.replace('+00:00', 'Z')}",
                  f"#EXTINF:{segment.duration:.3f},", segment_uri(segment, position)]
        position += segment.duration
        previous = segment
    lines.append("#EXT-X-ENDLIST")
    return "\n".join(lines) + "\n"


def segment_ts(segment: Segment, position: float) -> bytes:
    """The segment remuxed to MPEG-TS, its timestamps moved to start at `position` seconds.

    Raises:
        FileNotFoundError: the segment's file is gone.
        av.FFmpegError: the file does not remux.
    """
    out = io.BytesIO()
    with av.open(str(segment.path)) as source, av.open(out, "w", format="mpegts") as output:
        streams = [source.streams.video[0], *source.streams.audio[:1]]
        targets = {s.index: add_stream(output, s, mp4=False) for s in streams}
        for packet in source.demux(streams):
            if packet.dts is None or packet.size == 0:
                continue
            shift = round(Fraction(position) / time_base(packet.stream))
            packet.dts += shift
            if packet.pts is not None:
                packet.pts += shift
            packet.stream = targets[packet.stream_index]
            output.mux(packet)
    return out.getvalue()
