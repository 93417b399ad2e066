"""Clips cut from recorded segments by time range (remux, no transcoding), and thumbnails.

A clip starts on the last keyframe at or before the range's start and ends with the last packet
at or before its end; gaps between segments are closed up, so a clip plays its recorded
footage back to back. It stops early at a segment whose streams differ (the camera reconnected
with other settings).
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from fractions import Fraction
from pathlib import Path

import av
import numpy as np

from iris.recording.segment import PART_SUFFIX, Segment, add_stream, mp4_output, remuxed, time_base

log = logging.getLogger(__name__)


class ClipUnavailable(Exception):
    """No recorded segment covers any part of the requested time range."""


def _layout(streams: Iterable[av.stream.Stream]) -> tuple:
    """What must match for segments to be concatenated into one MP4 track set."""
    return tuple(
        (s.type, s.codec_context.name, s.codec_context.extradata,
         getattr(s.codec_context, "width", None), getattr(s.codec_context, "height", None),
         getattr(s.codec_context, "sample_rate", None))
        for s in streams
    )


def _keyframe_before(path: Path, at: Fraction) -> Fraction:
    """Media time of the last video keyframe at or before ``at`` (0 if none)."""
    best = Fraction(0)
    with av.open(str(path)) as source:
        video = source.streams.video[0]
        for packet in source.demux(video):
            if packet.dts is None or not packet.is_keyframe:
                continue
            t = packet.dts * time_base(video)
            if t > at:
                break
            best = t
    return best


def assemble_clip(segments: list[Segment], start: float, end: float, out_path: Path) -> float:
    """Concatenate the segments covering [start, end] into one playable faststart MP4 (written
    as .part, then renamed); returns the clip's duration in seconds.

    Segments whose file went missing meanwhile (retention) are skipped.

    Raises:
        ClipUnavailable: no segment covers any of the range.
    """
    chosen = sorted(s for s in segments if s.end > start and s.start < end)
    if not chosen:
        raise ClipUnavailable(f"no recording covers {start:.3f}..{end:.3f}")
    out_path = Path(out_path)
    out_path.parent.mkdir(parents=True, exist_ok=True)
    part = out_path.with_name(f"{out_path.name}.{id(chosen):x}{PART_SUFFIX}")
    elapsed = Fraction(0)
    try:
        with mp4_output(part) as output:
            layout: tuple | None = None
            outputs: list = []
            last_dts: dict[int, int] = {}
            for segment in chosen:
                try:
                    source = av.open(str(segment.path))
                except FileNotFoundError:
                    log.info("clip %s: %s is gone; skipped", out_path.name, segment.path.name)
                    continue
                with source:
                    streams = [source.streams.video[0], *source.streams.audio[:1]]
                    if layout is None:
                        layout = _layout(streams)
                        outputs = [add_stream(output, s) for s in streams]
                    elif _layout(streams) != layout:
                        log.warning("clip %s: %s has other streams; clip ends before it",
                                    out_path, segment.path.name)
                        break
                    cut = Fraction(0)
                    if start > segment.start:
                        cut = _keyframe_before(segment.path, Fraction(start - segment.start))
                    stop = Fraction(end - segment.start)
                    reached = _copy_range(source, streams, output, outputs, cut, stop,
                                          elapsed, last_dts)
                    elapsed += max(Fraction(0), reached - cut)
        if elapsed <= 0:
            raise ClipUnavailable(f"no media in {start:.3f}..{end:.3f}")
        part.replace(out_path)
    except BaseException:
        part.unlink(missing_ok=True)
        raise
    return float(elapsed)


def _copy_range(source: av.container.InputContainer, streams: list,
                output: av.container.OutputContainer, outputs: list, cut: Fraction,
                stop: Fraction, elapsed: Fraction, last_dts: dict[int, int]) -> Fraction:
    """Copy packets with media time in [cut, stop] shifted to start at ``elapsed``; returns
    the media time the copied video reaches."""
    reached = cut
    position = {s.index: i for i, s in enumerate(streams)}
    for packet in source.demux(streams):
        ts = packet.dts if packet.dts is not None else packet.pts
        if packet.size == 0 or ts is None:
            continue
        index = position[packet.stream_index]
        tb = time_base(streams[index])
        t = Fraction(ts * tb)
        if t < cut or t > stop:
            continue
        shift = round((elapsed - cut) / tb)
        dts = ts + shift
        if index in last_dts and dts <= last_dts[index]:
            continue
        pts = packet.pts + shift if packet.pts is not None else None
        output.mux(remuxed(packet, dts, pts, outputs[index]))
        last_dts[index] = dts
        if index == 0:  # the video track sets the pace; audio that overruns it is dropped
            reached = max(reached, Fraction(t + (packet.duration or 0) * tb))
    return reached


def first_frame(path: Path) -> np.ndarray:
    """The first keyframe of a segment or clip as a BGR array.

    Raises:
        ClipUnavailable: the file has no decodable video frame.
    """
    with av.open(str(path)) as source:
        video = source.streams.video[0]
        video.codec_context.skip_frame = "NONKEY"
        frame = next(source.decode(video), None)
        if frame is None:
            raise ClipUnavailable(f"{path} has no video frame")
        image: np.ndarray = frame.to_ndarray(format="bgr24")
    return image
