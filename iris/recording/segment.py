"""A recorded segment (value type), its file naming, and the remux helpers every writer shares.

A segment file is ``<start_ms>-<end_ms>.mp4`` under ``segments/<camera>/``: it starts on a video
keyframe, its timestamps start at zero, it is written as ``….mp4.part`` and renamed when
complete, with ``movflags=+faststart`` so it plays (and cuts) on its own.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import cast

import av

SEGMENT_NAME = re.compile(r"^(\d+)-(\d+)\.mp4$")
PART_SUFFIX = ".part"
MP4_OPTIONS = {"movflags": "+faststart"}


@dataclass(frozen=True, order=True)
class Segment:
    """One completed segment file and the wall-clock span it covers (epoch seconds).

    Attributes:
        start, end: wall-clock span of its media.
        path: the file.
        bytes: its size.
        has_audio: whether it carries an audio track with packets.
        keyframes: video keyframes in it (each a possible cut point).
        activity: inter-frame bytes relative to keyframe bytes (0 = a static scene; a cheap
            motion score the encoder computed for us), None when unknown.
        id: its index row, when it came from the index.
    """

    start: float
    end: float
    path: Path
    bytes: int = 0
    has_audio: bool = False
    keyframes: int = 0
    activity: float | None = None
    id: int | None = None

    @property
    def duration(self) -> float:
        """Length in seconds."""
        return self.end - self.start

    @classmethod
    def from_path(cls, path: Path) -> Segment | None:
        """Parse ``<start_ms>-<end_ms>.mp4``; None for any other name."""
        span = span_of(path.name)
        return None if span is None else cls(span[0], span[1], path)


def span_of(name: str) -> tuple[float, float] | None:
    """(start, end) epoch seconds encoded in a segment file name, None for other names."""
    match = SEGMENT_NAME.match(name)
    if match is None:
        return None
    return int(match[1]) / 1000, int(match[2]) / 1000


def segment_name(start: float, end: float) -> str:
    """The file name of a segment spanning [start, end] (ms; at least 1 ms long)."""
    start_ms = round(start * 1000)
    end_ms = max(start_ms + 1, round(end * 1000))
    return f"{start_ms}-{end_ms}.mp4"


def time_base(stream: av.stream.Stream) -> Fraction:
    """The stream's time base (every demuxed or template stream has one)."""
    if stream.time_base is None:
        raise ValueError(f"stream {stream.index} has no time base")
    return stream.time_base


def mp4_output(path: Path) -> av.container.OutputContainer:
    """A faststart MP4 being written at `path`."""
    return av.open(str(path), "w", format="mp4", options=dict(MP4_OPTIONS))


def add_stream(output: av.container.OutputContainer, template: av.stream.Stream, *,
               mp4: bool = True) -> av.stream.Stream:
    """An output stream that copies `template`'s codec parameters (remux, no transcoding)."""
    stream = output.add_stream_from_template(template)
    context = template.codec_context
    if mp4 and context.name == "hevc":
        stream.codec_tag = "hvc1"  # the tag browsers (Safari, Chrome) accept for H.265 MP4
    if template.type == "audio":
        # An encoder's template (transcoded audio) carries its layout and AudioSpecificConfig
        # on the context only; without the config, MPEG-TS gets AAC without ADTS headers.
        layout = cast(av.AudioCodecContext, context).layout
        if layout is not None:
            cast(av.AudioCodecContext, stream.codec_context).layout = layout
        if context.extradata and not stream.codec_context.extradata:
            stream.codec_context.extradata = context.extradata
    return stream


def remuxed(packet: av.Packet, dts: int, pts: int | None, stream: av.stream.Stream,
            packet_time_base: Fraction | None = None) -> av.Packet:
    """A copy of ``packet`` with new timestamps for ``stream`` (the input stays untouched: the
    live view muxes it too). `packet_time_base`: the packet's, when the caller knows it (PyAV
    builds a Fraction on every read of the attribute)."""
    copy = av.Packet(cast(bytes, packet))  # any buffer works; this copies the payload once
    copy.dts = dts
    copy.pts = pts if pts is not None else dts
    copy.duration = packet.duration
    copy.time_base = packet_time_base or packet.time_base
    copy.is_keyframe = packet.is_keyframe
    copy.stream = stream
    return copy
