"""The on-disk segment ring buffer: camera packets remuxed (never transcoded) into short MP4
files named by wall-clock time, pruned by age, and concatenated into clips on demand.

A segment is ``<start_ms>-<end_ms>.mp4``: it starts on a video keyframe, its timestamps start
at zero, and it is written as ``<arrival_ms>.<n>.mp4.part`` and renamed when complete, so a
crash leaves only ``.part`` files behind (removed by `SegmentBuffer.discard_partials`).
"""

from __future__ import annotations

import logging
import re
import time
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import cast

import av
import numpy as np

log = logging.getLogger(__name__)

SEGMENT_NAME = re.compile(r"^(\d+)-(\d+)\.mp4$")
PART_SUFFIX = ".part"
MP4_OPTIONS = {"movflags": "+faststart"}
#: Audio older than the cut may still arrive this long (media time) after the cut keyframe;
#: it goes to the previous segment, which stays open until then.
LATE_AUDIO_S = Fraction(1)
#: Wall-clock offsets (arrival - media time) are minimised over this much media time.
CLOCK_WINDOW_S = Fraction(30)
#: A video timestamp jump bigger than this (or backwards) starts a new segment.
MAX_GAP_S = Fraction(5)


class ClipUnavailable(Exception):
    """No recorded segment covers any part of the requested time range."""


@dataclass(frozen=True, order=True)
class Segment:
    """One completed segment file and the wall-clock span it covers (epoch seconds)."""

    start: float
    end: float
    path: Path

    @property
    def duration(self) -> float:
        """Length in seconds."""
        return self.end - self.start

    @classmethod
    def from_path(cls, path: Path) -> Segment | None:
        """Parse ``<start_ms>-<end_ms>.mp4``; None for any other name."""
        match = SEGMENT_NAME.match(path.name)
        if match is None:
            return None
        return cls(int(match[1]) / 1000, int(match[2]) / 1000, path)


def _time_base(stream: av.stream.Stream) -> Fraction:
    if stream.time_base is None:
        raise ValueError(f"stream {stream.index} has no time base")
    return stream.time_base


def _mp4_output(path: Path) -> av.container.OutputContainer:
    return av.open(str(path), "w", format="mp4", options=dict(MP4_OPTIONS))


def _add_stream(output: av.container.OutputContainer, template: av.stream.Stream):
    stream = output.add_stream_from_template(template)
    if template.codec_context.name == "hevc":
        stream.codec_tag = "hvc1"  # the tag browsers (Safari, Chrome) accept for H.265 MP4
    return stream


def _remuxed(packet: av.Packet, dts: int, pts: int | None, stream: av.stream.Stream) -> av.Packet:
    """A copy of ``packet`` with new timestamps for ``stream`` (the input stays untouched)."""
    copy = av.Packet(cast(bytes, packet))  # any buffer works; this copies the payload once
    copy.dts = dts
    copy.pts = pts if pts is not None else dts
    copy.duration = packet.duration
    copy.time_base = packet.time_base
    copy.is_keyframe = packet.is_keyframe
    copy.stream = stream
    return copy


class _SegmentFile:
    """One segment being written: streams mirror the input, timestamps rebased to the cut."""

    def __init__(self, directory: Path, cut: Fraction, name: str, streams: list) -> None:
        self.directory = directory
        self.cut = cut
        self.part = directory / f"{name}.mp4{PART_SUFFIX}"
        self.output = _mp4_output(self.part)
        self.outputs = {s.index: _add_stream(self.output, s) for s in streams}
        self.bases = {s.index: round(cut / _time_base(s)) for s in streams}
        self.last_dts: dict[int, int] = {}
        self.video_packets = 0

    def write(self, packet: av.Packet, is_video: bool) -> None:
        index = packet.stream_index
        base = self.bases[index]
        ts = packet.dts if packet.dts is not None else packet.pts
        if ts is None:
            return
        dts = ts - base
        last = self.last_dts.get(index)
        if dts < 0 or (last is not None and dts <= last):
            return  # before the cut, or a non-increasing DTS the muxer would reject
        pts = packet.pts - base if packet.pts is not None else None
        self.output.mux(_remuxed(packet, dts, pts, self.outputs[index]))
        self.last_dts[index] = dts
        self.video_packets += is_video

    def finish(self, end: Fraction, clock_offset: float) -> Segment | None:
        """Close and rename to its wall-clock span; None (file removed) if it has no video."""
        self.output.close()
        if self.video_packets == 0 or end <= self.cut:
            self.part.unlink(missing_ok=True)
            return None
        start_ms = round((float(self.cut) + clock_offset) * 1000)
        end_ms = max(start_ms + 1, round((float(end) + clock_offset) * 1000))
        final = self.directory / f"{start_ms}-{end_ms}.mp4"
        self.part.rename(final)
        return Segment(start_ms / 1000, end_ms / 1000, final)

    def discard(self) -> None:
        try:
            self.output.close()
        except (av.FFmpegError, OSError) as exc:
            log.debug("discarding %s: %s", self.part, exc)
        self.part.unlink(missing_ok=True)


class SegmentWriter:
    """Remuxes packets (no transcoding) into ~segment_seconds MP4 files under directory, cut on
    the first video keyframe >= segment_seconds after the last cut; timestamps rebased to that
    keyframe; packets without timestamps skipped; non-increasing DTS dropped;
    movflags=+faststart; written as <name>.part then renamed. File names encode wall-clock
    start and end in ms: f"{start_ms}-{end_ms}.mp4".

    Wall-clock spans come from the media timestamps plus the smallest (arrival - media time)
    seen over the last 30 s, so packets that arrive in a burst (RTSP open) or late do not
    skew them. ``on_segment`` is called with each completed `Segment`.
    """

    def __init__(
        self,
        directory: Path,
        segment_seconds: float = 2.0,
        on_segment: Callable[[Segment], None] | None = None,
    ) -> None:
        self.directory = Path(directory)
        self.directory.mkdir(parents=True, exist_ok=True)
        self.segment_seconds = Fraction(segment_seconds)
        self.on_segment = on_segment
        self._streams: dict[int, av.stream.Stream] = {}
        self._video_index: int | None = None
        self._current: _SegmentFile | None = None
        self._previous: _SegmentFile | None = None  # open only to take late audio
        self._last_video: Fraction | None = None
        self._frame_step = Fraction(0)
        self._offsets: deque[tuple[Fraction, float]] = deque()  # (media time, wall - media)
        self._opened = 0
        self.error: str | None = None  # why recording is failing now (e.g. disk full), if it is

    def open_streams(self, streams: list) -> None:
        """(Re)initialise from the input's video (+audio) streams; closes any current segment."""
        self.close(finalize=True)
        self._streams = {s.index: s for s in streams}
        videos = [s.index for s in streams if s.type == "video"]
        self._video_index = videos[0] if videos else None

    def write(self, packet: av.Packet, wall_time: float) -> None:
        """Add one demuxed packet that arrived at ``wall_time`` (epoch seconds)."""
        stream = self._streams.get(packet.stream_index)
        ts = packet.dts if packet.dts is not None else packet.pts
        if stream is None or ts is None or packet.size == 0:
            return
        if packet.time_base is None:
            packet.time_base = _time_base(stream)
        t = ts * packet.time_base
        try:
            if packet.stream_index == self._video_index:
                self._write_video(packet, t, wall_time)
            else:
                self._write_audio(packet, t)
        except (av.FFmpegError, OSError, ValueError) as exc:
            self._failed(f"cannot write ({exc}); waiting for the next keyframe")
            self._drop_open_files()

    def close(self, finalize: bool = True) -> None:
        """Finish the open segment (``finalize``) or discard it; the writer stays usable."""
        if self._current is not None:
            self._finish_previous()
            current, self._current = self._current, None
            if finalize and self._last_video is not None:
                self._complete(current, self._last_video + self._frame_step)
            else:
                current.discard()
        self._finish_previous()
        self._last_video = None
        self._offsets.clear()

    # -- internals -----------------------------------------------------------------------

    def _write_video(self, packet: av.Packet, t: Fraction, wall_time: float) -> None:
        last = self._last_video
        if last is not None and (t < last or t - last > MAX_GAP_S):
            # A new timeline (source restarted or stalled): end the segment where it stopped.
            self.close(finalize=True)
            last = None
        self._note_offset(t, wall_time)
        current = self._current
        if packet.is_keyframe and (current is None or t - current.cut >= self.segment_seconds):
            self._finish_previous()
            if current is not None:
                self._previous = current  # ends exactly at this keyframe
            self._opened += 1
            name = f"{wall_time * 1000:.0f}.{self._opened}"
            self._current = _SegmentFile(self.directory, t, name, list(self._streams.values()))
            if not self._has_audio():
                self._finish_previous()
        if self._current is None:
            return  # waiting for the first keyframe
        if last is not None and t > last:
            self._frame_step = t - last
        self._last_video = t if last is None else max(last, t)
        self._current.write(packet, is_video=True)
        if self._previous is not None and t - self._previous_end() > LATE_AUDIO_S:
            self._finish_previous()

    def _write_audio(self, packet: av.Packet, t: Fraction) -> None:
        if self._current is None:
            return
        if t < self._current.cut:
            if self._previous is not None:
                self._previous.write(packet, is_video=False)
            return
        self._finish_previous()  # audio has caught up with the cut
        self._current.write(packet, is_video=False)

    def _has_audio(self) -> bool:
        return any(index != self._video_index for index in self._streams)

    def _previous_end(self) -> Fraction:
        return self._current.cut if self._current is not None else Fraction(0)

    def _finish_previous(self) -> None:
        if self._previous is not None:
            previous, self._previous = self._previous, None
            self._complete(previous, self._previous_end())

    def _complete(self, segment: _SegmentFile, end: Fraction) -> None:
        try:
            done = segment.finish(end, self._clock_offset())
        except (av.FFmpegError, OSError) as exc:
            self._failed(f"cannot finish {segment.part.name} ({exc})")
            segment.part.unlink(missing_ok=True)
            return
        if self.error is not None:
            log.info("segments %s: recording again", self.directory)
        self.error = None
        if done is not None and self.on_segment is not None:
            self.on_segment(done)

    def _failed(self, message: str) -> None:
        # Recording degrades instead of crashing (disk full, storage gone); logged once per cause.
        if message != self.error:
            log.error("segments %s: %s", self.directory, message)
        self.error = message

    def _drop_open_files(self) -> None:
        for segment in (self._previous, self._current):
            if segment is not None:
                segment.discard()
        self._previous = self._current = None

    def _note_offset(self, t: Fraction, wall_time: float) -> None:
        # Sliding-window minimum of (arrival - media time): the least-delayed packets best
        # tell when media time t happened on the wall clock.
        offset = wall_time - float(t)
        while self._offsets and self._offsets[-1][1] >= offset:
            self._offsets.pop()
        self._offsets.append((t, offset))
        while self._offsets and t - self._offsets[0][0] > CLOCK_WINDOW_S:
            self._offsets.popleft()

    def _clock_offset(self) -> float:
        return self._offsets[0][1] if self._offsets else time.time()


class SegmentBuffer:
    """The completed segments of one camera directory, kept for ``retention_seconds``."""

    def __init__(
        self, directory: Path, retention_seconds: float, stale_part_seconds: float = 60.0
    ) -> None:
        self.directory = Path(directory)
        self.directory.mkdir(parents=True, exist_ok=True)
        self.retention_seconds = retention_seconds
        self.stale_part_seconds = stale_part_seconds

    def segments(self) -> list[Segment]:
        """Completed segments sorted by start time."""
        found = (Segment.from_path(path) for path in self.directory.iterdir())
        return sorted(segment for segment in found if segment is not None)

    def covering(self, start: float, end: float) -> list[Segment]:
        """Segments overlapping the wall-clock range [start, end]."""
        return [s for s in self.segments() if s.end > start and s.start < end]

    def prune(self, now: float | None = None) -> int:
        """Delete segments whose end < now - retention, and ``.part`` files untouched for
        ``stale_part_seconds``; returns how many files were removed."""
        now = time.time() if now is None else now
        removed = 0
        for segment in self.segments():
            if segment.end < now - self.retention_seconds:
                segment.path.unlink(missing_ok=True)
                removed += 1
        for part in self.directory.glob(f"*{PART_SUFFIX}"):
            try:
                stale = part.stat().st_mtime < now - self.stale_part_seconds
            except FileNotFoundError:
                continue
            if stale:
                part.unlink(missing_ok=True)
                removed += 1
        return removed

    def discard_partials(self) -> int:
        """Remove every ``.part`` file (call at startup, after an unclean stop)."""
        parts = list(self.directory.glob(f"*{PART_SUFFIX}"))
        for part in parts:
            part.unlink(missing_ok=True)
        return len(parts)


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
            t = packet.dts * _time_base(video)
            if t > at:
                break
            best = t
    return best


def assemble_clip(segments: list[Segment], start: float, end: float, out_path: Path) -> float:
    """Concatenate (remux, no transcoding) the segments covering [start, end] into one playable
    faststart MP4 (write .part then rename); returns the clip duration in seconds. Raises
    ClipUnavailable when no segment covers any of the range.

    The clip starts on the last keyframe at or before ``start`` and ends with the last packet
    at or before ``end``; gaps between segments are closed up. It stops early at a segment
    whose streams differ (camera reconnected with other settings).
    """
    chosen = sorted(s for s in segments if s.end > start and s.start < end)
    if not chosen:
        raise ClipUnavailable(f"no recording covers {start:.3f}..{end:.3f}")
    out_path = Path(out_path)
    out_path.parent.mkdir(parents=True, exist_ok=True)
    part = out_path.with_name(out_path.name + PART_SUFFIX)
    elapsed = Fraction(0)
    try:
        with _mp4_output(part) as output:
            layout: tuple | None = None
            outputs: list = []
            last_dts: dict[int, int] = {}
            for segment in chosen:
                with av.open(str(segment.path)) as source:
                    streams = [source.streams.video[0], *source.streams.audio[:1]]
                    if layout is None:
                        layout = _layout(streams)
                        outputs = [_add_stream(output, s) for s in streams]
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
        part.rename(out_path)
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
        tb = _time_base(streams[index])
        t = Fraction(ts * tb)
        if t < cut or t > stop:
            continue
        shift = round((elapsed - cut) / tb)
        dts = ts + shift
        if index in last_dts and dts <= last_dts[index]:
            continue
        pts = packet.pts + shift if packet.pts is not None else None
        output.mux(_remuxed(packet, dts, pts, outputs[index]))
        last_dts[index] = dts
        if index == 0:  # the video track sets the pace; audio that overruns it is dropped
            reached = max(reached, Fraction(t + (packet.duration or 0) * tb))
    return reached


def make_thumbnail(clip_path: Path, out_path: Path, max_width: int = 640) -> Path:
    """Decode the first keyframe of ``clip_path`` into a JPEG at ``out_path`` (≤ max_width)."""
    import cv2

    with av.open(str(clip_path)) as source:
        video = source.streams.video[0]
        video.codec_context.skip_frame = "NONKEY"
        frame = next(source.decode(video), None)
        if frame is None:
            raise ClipUnavailable(f"{clip_path} has no video frame")
        image: np.ndarray = frame.to_ndarray(format="bgr24")
    if image.shape[1] > max_width:
        height = round(image.shape[0] * max_width / image.shape[1])
        image = cv2.resize(image, (max_width, height), interpolation=cv2.INTER_AREA)
    ok, jpeg = cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, 85])
    if not ok:
        raise ValueError(f"cannot encode a thumbnail of {clip_path}")
    out_path = Path(out_path)
    out_path.parent.mkdir(parents=True, exist_ok=True)
    out_path.write_bytes(jpeg.tobytes())
    return out_path
