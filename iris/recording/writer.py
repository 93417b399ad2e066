"""The segment writer: camera packets remuxed (never transcoded video) into MP4 segments.

Each segment starts on a video keyframe with its timestamps rebased to zero, is written as
``<arrival_ms>.<n>.mp4.part`` and renamed to ``<start_ms>-<end_ms>.mp4`` (wall-clock span) when
complete, so a crash leaves only the ``.part`` being written. G.711 audio is transcoded to AAC
(`iris.recording.audio`); other audio MP4 carries is copied.
"""

from __future__ import annotations

import logging
import time
from collections import deque
from collections.abc import Callable
from fractions import Fraction
from pathlib import Path

import av

from iris.recording.audio import RECORDED_AUDIO_CODECS, AacTranscoder, needs_transcoding
from iris.recording.segment import (
    PART_SUFFIX,
    Segment,
    add_stream,
    mp4_output,
    remuxed,
    segment_name,
    time_base,
)

log = logging.getLogger(__name__)

# Media times are float seconds (a Fraction per packet cost as much as the rest of the
# writer); the exact integer timestamps are kept wherever a cut must land on a packet.
#: Audio older than the cut may still arrive this long (media time) after the cut keyframe;
#: it goes to the previous segment, which stays open until then.
LATE_AUDIO_S = 1.0
#: Wall-clock offsets (arrival - media time) are minimised over this much media time.
CLOCK_WINDOW_S = 30.0
#: A video timestamp jump bigger than this (or backwards) starts a new segment.
MAX_GAP_S = 5.0
#: A requested cut waits until the open segment holds at least this much video.
MIN_CUT_S = 0.5


class _SegmentFile:
    """One segment being written: streams mirror the input, timestamps rebased to the cut."""

    def __init__(self, directory: Path, cut: Fraction, name: str,
                 templates: dict[int, av.stream.Stream]) -> None:
        self.directory = directory
        exact = cut  # the keyframe's time, exactly: its timestamp becomes 0
        self.cut = float(exact)
        self.part = directory / f"{name}.mp4{PART_SUFFIX}"
        self.output = mp4_output(self.part)
        self.outputs = {index: add_stream(self.output, s) for index, s in templates.items()}
        self.time_bases = {index: time_base(s) for index, s in templates.items()}
        self.bases = {index: round(exact / tb) for index, tb in self.time_bases.items()}
        self.last_dts: dict[int, int] = {}
        self.video_packets = 0
        self.audio_packets = 0
        self.keyframes = 0
        self.key_bytes = 0
        self.inter_bytes = 0

    def write(self, packet: av.Packet, index: int, is_video: bool) -> None:
        base = self.bases[index]
        ts = packet.dts if packet.dts is not None else packet.pts
        if ts is None:
            return
        dts = ts - base
        last = self.last_dts.get(index)
        if dts < 0 or (last is not None and dts <= last):
            return  # before the cut, or a non-increasing DTS the muxer would reject
        pts = packet.pts - base if packet.pts is not None else None
        self.output.mux(remuxed(packet, dts, pts, self.outputs[index], self.time_bases[index]))
        self.last_dts[index] = dts
        if not is_video:
            self.audio_packets += 1
            return
        self.video_packets += 1
        if packet.is_keyframe:
            self.keyframes += 1
            self.key_bytes += packet.size
        else:
            self.inter_bytes += packet.size

    def activity(self) -> float | None:
        """Mean inter-frame size over mean keyframe size, in [0, 1]: ~0 for a static scene."""
        inter = self.video_packets - self.keyframes
        if not self.keyframes or not inter or not self.key_bytes:
            return None
        return round(min(1.0, (self.inter_bytes / inter) / (self.key_bytes / self.keyframes)), 4)

    def finish(self, end: float, clock_offset: float) -> Segment | None:
        """Close and rename to its wall-clock span; None (file removed) if it has no video."""
        self.output.close()
        if self.video_packets == 0 or end <= self.cut:
            self.part.unlink(missing_ok=True)
            return None
        start = self.cut + clock_offset
        final = self.directory / segment_name(start, end + clock_offset)
        self.part.rename(final)
        span = Segment.from_path(final)
        assert span is not None
        return Segment(span.start, span.end, final, bytes=final.stat().st_size,
                       has_audio=self.audio_packets > 0, keyframes=self.keyframes,
                       activity=self.activity())

    def discard(self) -> None:
        try:
            self.output.close()
        except (av.FFmpegError, OSError) as exc:
            log.debug("discarding %s: %s", self.part, exc)
        self.part.unlink(missing_ok=True)


class SegmentWriter:
    """Remuxes packets (no video transcoding) into ~segment_seconds MP4 files under directory,
    cut on the first video keyframe >= segment_seconds after the last cut (or the first one
    after `request_cut`); timestamps rebased to that keyframe; packets without timestamps
    skipped; non-increasing DTS dropped; movflags=+faststart; written as <name>.part then
    renamed to f"{start_ms}-{end_ms}.mp4" (wall-clock span).

    Wall-clock spans come from the media timestamps plus the smallest (arrival - media time)
    seen over the last 30 s, so packets that arrive in a burst (RTSP open) or late do not
    skew them. ``on_segment`` is called with each completed `Segment`.
    """

    def __init__(
        self,
        directory: Path,
        segment_seconds: float = 6.0,
        on_segment: Callable[[Segment], None] | None = None,
    ) -> None:
        self.directory = Path(directory)
        self.directory.mkdir(parents=True, exist_ok=True)
        self.segment_seconds = float(segment_seconds)
        self.on_segment = on_segment
        self._templates: dict[int, av.stream.Stream] = {}
        self._transcoders: dict[int, AacTranscoder] = {}
        self._video_index: int | None = None
        self._current: _SegmentFile | None = None
        self._previous: _SegmentFile | None = None  # open only to take late audio
        self._last_video: float | None = None
        self._frame_step = 0.0
        self._offsets: deque[tuple[float, float]] = deque()  # (media time, wall - media)
        self._seconds: dict[int, float] = {}  # stream index → its time base in seconds
        self._opened = 0
        self._cuts: list[float] = []  # wall times from which the next keyframe cuts
        self.error: str | None = None  # why recording is failing now (e.g. disk full), if it is

    def open_streams(self, streams: list) -> None:
        """(Re)initialise from the input's video (+audio) streams; closes any current segment.

        Audio MP4 cannot carry (other than G.711, which is transcoded) is left out.
        """
        self.close(finalize=True)
        for transcoder in self._transcoders.values():
            transcoder.close()
        self._templates, self._transcoders, self._seconds = {}, {}, {}
        videos = [s.index for s in streams if s.type == "video"]
        self._video_index = videos[0] if videos else None
        for stream in streams:
            if stream.time_base is not None:
                self._seconds[stream.index] = float(stream.time_base)
            if stream.type == "video" and stream.index == self._video_index:
                self._templates[stream.index] = stream
            elif stream.type == "audio" and stream.codec_context.name in RECORDED_AUDIO_CODECS:
                if needs_transcoding(stream):
                    transcoder = AacTranscoder(stream)
                    self._transcoders[stream.index] = transcoder
                    self._templates[stream.index] = transcoder.template
                else:
                    self._templates[stream.index] = stream

    def request_cut(self, at: float | None = None) -> None:
        """End the open segment at the first keyframe arriving at or after wall time `at`
        (default: the next one), whatever its length: an event closed or a manual recording
        stopped has its footage indexed within about a GOP."""
        self._cuts = sorted([*self._cuts, time.time() if at is None else at])

    def write(self, packet: av.Packet, wall_time: float) -> None:
        """Add one demuxed packet that arrived at ``wall_time`` (epoch seconds)."""
        index = packet.stream_index
        stream = self._templates.get(index)
        ts = packet.dts if packet.dts is not None else packet.pts
        if stream is None or ts is None or packet.size == 0:
            return
        try:
            if index in self._transcoders:
                transcoder = self._transcoders[index]
                for encoded in transcoder.transcode(packet):
                    if encoded.dts is not None:
                        self._write_audio(encoded, index, encoded.dts * transcoder.seconds)
                return
            t = ts * (self._seconds.get(index) or float(time_base(stream)))
            if index == self._video_index:
                self._write_video(packet, t, wall_time)
            else:
                self._write_audio(packet, index, t)
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

    def _due(self, t: float, wall_time: float) -> bool:
        current = self._current
        if current is None:
            return True
        length = t - current.cut
        requested = bool(self._cuts) and wall_time >= self._cuts[0]
        return length >= self.segment_seconds or (requested and length >= MIN_CUT_S)

    def _write_video(self, packet: av.Packet, t: float, wall_time: float) -> None:
        last = self._last_video
        if last is not None and (t < last or t - last > MAX_GAP_S):
            # A new timeline (source restarted or stalled): end the segment where it stopped.
            self.close(finalize=True)
            last = None
        self._note_offset(t, wall_time)
        current = self._current
        if packet.is_keyframe and self._due(t, wall_time):
            self._cuts = [at for at in self._cuts if at > wall_time]
            self._finish_previous()
            if current is not None:
                self._previous = current  # ends exactly at this keyframe
            self._opened += 1
            name = f"{wall_time * 1000:.0f}.{self._opened}"
            ts = packet.dts if packet.dts is not None else packet.pts
            assert ts is not None and packet.time_base is not None
            self._current = _SegmentFile(self.directory, ts * packet.time_base, name,
                                         self._templates)
            if not self._has_audio():
                self._finish_previous()
        if self._current is None:
            return  # waiting for the first keyframe
        if last is not None and t > last:
            self._frame_step = t - last
        self._last_video = t if last is None else max(last, t)
        assert self._video_index is not None
        self._current.write(packet, self._video_index, is_video=True)
        if self._previous is not None and t - self._previous_end() > LATE_AUDIO_S:
            self._finish_previous()

    def _write_audio(self, packet: av.Packet, index: int, t: float) -> None:
        if self._current is None:
            return
        if t < self._current.cut:
            if self._previous is not None:
                self._previous.write(packet, index, is_video=False)
            return
        self._finish_previous()  # audio has caught up with the cut
        self._current.write(packet, index, is_video=False)

    def _has_audio(self) -> bool:
        return any(index != self._video_index for index in self._templates)

    def _previous_end(self) -> float:
        return self._current.cut if self._current is not None else 0.0

    def _finish_previous(self) -> None:
        if self._previous is not None:
            previous, self._previous = self._previous, None
            self._complete(previous, self._previous_end())

    def _complete(self, segment: _SegmentFile, end: float) -> None:
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

    def _note_offset(self, t: float, wall_time: float) -> None:
        # Sliding-window minimum of (arrival - media time): the least-delayed packets best
        # tell when media time t happened on the wall clock.
        offset = wall_time - t
        while self._offsets and self._offsets[-1][1] >= offset:
            self._offsets.pop()
        self._offsets.append((t, offset))
        while self._offsets and t - self._offsets[0][0] > CLOCK_WINDOW_S:
            self._offsets.popleft()

    def _clock_offset(self) -> float:
        return self._offsets[0][1] if self._offsets else time.time()
