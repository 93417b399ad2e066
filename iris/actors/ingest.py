"""Camera ingest: a thread that reads one RTSP stream (or a looping local file) with PyAV.

The reader never gives up: every open failure, stall, corrupt stream, refused source or end of
an RTSP stream is reported to the sink as status ``error`` with a reason, followed by a capped
exponential backoff and a fresh open. Each open first asks `iris.sources.check_source` whether
the source may be opened at all, then opens it with only the protocols and demuxer its scheme
needs; every open and read is bounded by a timeout. Packets go to the sink untouched (for
remuxing); decoded video frames go to it as they are (for motion, detection and live view).

While the sink says nothing needs every frame (`may_reduce`: no motion, no open event, no live
viewer), decoding drops to `IngestOptions.idle_decode`: ``keyframes`` decodes only keyframes
(H.264 P-frames refer to the frames before them, so a skipped one makes every frame up to the
next keyframe undecodable: full decoding resumes at once when the skipping began right after
a decoded keyframe, else at the next keyframe), ``reduced`` lets FFmpeg skip the frames no other
frame refers to (B-frames, disposable P-frames: nothing on streams of reference P-frames), and
``all`` decodes everything. Packets always reach the sink, so recordings keep every frame.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Literal, Protocol

import av

from iris.recording.audio import RECORDED_AUDIO_CODECS
from iris.redact import redact_text, redact_url
from iris.sources import Source, SourcePolicy, SourceRefused, check_source, ffmpeg_input

log = logging.getLogger(__name__)

#: Window over which `StreamReader.fps` is measured.
FPS_WINDOW_S = 2.0
#: A local file that falls this far behind real time restarts its pacing clock.
MAX_LAG_S = 1.0

STATUSES = ("connecting", "online", "error", "stopped")
IDLE_DECODE_MODES = ("all", "reduced", "keyframes")


@dataclass(frozen=True)
class IngestOptions:
    """How to read one camera.

    Attributes:
        url: the camera URL as stored (``rtsp://…``; ``file:///…`` plays in a loop in real
            time); opened only when `policy` allows it.
        transport: RTSP lower transport, ``"tcp"`` or ``"udp"``.
        timeout_s: seconds without data before the stream counts as stalled.
        backoff_initial_s: first wait before reopening after a failure.
        backoff_max_s: cap of the doubling wait between consecutive failures.
        decode: decode video frames for `IngestSink.on_frame` (False: packets only).
        idle_decode: what is decoded while the reader's ``may_reduce`` says nothing needs every
            frame: ``all``, ``reduced`` (frames nothing refers to are skipped) or
            ``keyframes``.
        policy: which sources this server opens (default: rtsp and rtsps only).
    """

    url: str = field(repr=False)
    transport: str = "tcp"
    timeout_s: float = 5.0
    backoff_initial_s: float = 0.5
    backoff_max_s: float = 10.0
    decode: bool = True
    policy: SourcePolicy = field(default_factory=SourcePolicy)
    idle_decode: str = "all"

    def __post_init__(self) -> None:
        if self.transport not in ("tcp", "udp"):
            raise ValueError(f"transport must be 'tcp' or 'udp', not {self.transport!r}")
        if self.timeout_s <= 0:
            raise ValueError("timeout_s must be positive")
        if not 0 < self.backoff_initial_s <= self.backoff_max_s:
            raise ValueError("need 0 < backoff_initial_s <= backoff_max_s")
        if self.idle_decode not in IDLE_DECODE_MODES:
            raise ValueError(f"idle_decode must be one of {', '.join(IDLE_DECODE_MODES)}, "
                             f"not {self.idle_decode!r}")

    @property
    def open_timeout_s(self) -> float:
        """Bound of one open (DESCRIBE/SETUP of a frozen server, a slow TLS handshake)."""
        return max(2 * self.timeout_s, 10.0)


class IngestSink(Protocol):
    """Receiver of everything a `StreamReader` produces, called from the reader's thread."""

    def on_open(self, container_streams: list) -> None:
        """After each (re)open: the input video stream first, then an audio stream if any."""

    def on_packet(self, packet: av.Packet) -> None:
        """Each video or audio packet in demux order (local files: timestamps offset per loop)."""

    def on_frame(self, frame: av.VideoFrame, wall_time: float) -> None:
        """Each decoded video frame, with the wall-clock time of decoding. Not converted: BGR
        conversion costs as much as decoding, so sinks convert only the frames they use."""

    def on_status(self, status: str, reason: str | None) -> None:
        """Status changes: connecting, online, error (with a reason), stopped."""


class StreamEnded(Exception):
    """The source stopped delivering packets (server gone, file empty)."""


class StreamStalled(Exception):
    """The source delivered nothing for ``timeout_s``."""


def open_source(options: IngestOptions) -> tuple[Source, av.container.InputContainer]:
    """Vet ``options.url`` against ``options.policy`` now and open it, every step bounded.

    Raises:
        SourceRefused: the policy refuses the source (it is never opened).
        av.FFmpegError, OSError, TimeoutError: the open failed.
    """
    source = check_source(options.url, options.policy)
    spec = ffmpeg_input(source, options.policy)
    ffmpeg_options = dict(spec.options)
    timeout_us = str(int(options.timeout_s * 1e6))
    if source.scheme in ("rtsp", "rtsps"):
        ffmpeg_options |= {"timeout": timeout_us, "rtsp_transport": options.transport,
                           "fflags": "nobuffer", "flags": "low_delay"}
    elif not source.is_file:
        # rw_timeout, not timeout: rtmp's `timeout` means "listen for a publisher".
        ffmpeg_options["rw_timeout"] = timeout_us
    # PyAV's own timeouts (an interrupt callback) bound DESCRIBE/SETUP on a frozen server and
    # a stuck read of any source, network or file, and notice a stall after timeout_s rather
    # than FFmpeg's ~2x.
    container = av.open(spec.target, "r", format=spec.format, options=ffmpeg_options,
                        timeout=(options.open_timeout_s, options.timeout_s))
    return source, container


class StreamReader:
    """Runs in its own thread: open → demux → (packets to sink, decoded frames to sink) → on
    EOF/error/stall reports status 'error' with a reason, backs off (capped exponential),
    reopens. Never raises out of the thread.

    Sink callbacks run on the reader thread; a sink that raises from ``on_packet`` or
    ``on_frame`` is logged and the stream goes on.
    """

    def __init__(self, options: IngestOptions, sink: IngestSink,
                 may_reduce: Callable[[], bool] | None = None) -> None:
        """Args:
            options: what to read and how.
            sink: receiver of packets, frames and status changes.
            may_reduce: asked before each video packet; True lets decoding drop to
                ``options.idle_decode`` (it must be cheap: it runs 25 times a second).
        """
        self.options = options
        self._sink = sink
        self._may_reduce = may_reduce
        self._synced = True  # every video packet since the last keyframe was decoded
        self._skip_frame = "DEFAULT"
        self.frames_decoded = 0
        self.packets_skipped = 0  # video packets not decoded (they were still recorded)
        self._name = redact_url(options.url)
        self._stop_event = threading.Event()
        self._thread: threading.Thread | None = None
        self._status = "stopped"
        self._last_error: str | None = None
        self._frame_times: deque[float] = deque()
        self._lock = threading.Lock()
        self._online = False
        self._sink_failures = 0

    # -- public API ----------------------------------------------------------------------

    def start(self) -> None:
        """Start the reader thread (no-op while it runs)."""
        if self._thread is not None and self._thread.is_alive():
            return
        self._stop_event.clear()
        self._thread = threading.Thread(
            target=self._run, name=f"ingest {self._name}", daemon=True
        )
        self._thread.start()

    def stop(self, timeout: float = 5.0) -> None:
        """Ask the thread to close the container and end; wait up to ``timeout`` for it.

        A read blocked on a stalled server returns within ``timeout_s``, so a join may outlast
        a ``timeout`` shorter than that; the thread still closes the container when it wakes.
        """
        self._stop_event.set()
        thread = self._thread
        if thread is None:
            return
        thread.join(timeout)
        if thread.is_alive():
            log.warning("ingest %s: reader still blocked after %.1f s", self._name, timeout)

    @property
    def reducing(self) -> bool:
        """Whether decoding is below every frame now (idle and unwatched)."""
        return not self._synced or self._skip_frame != "DEFAULT"

    @property
    def fps(self) -> float:
        """Video frames received per second over the last ~2 s (each one recorded, whether
        decoded or not)."""
        now = time.monotonic()
        with self._lock:
            times = [t for t in self._frame_times if now - t <= FPS_WINDOW_S]
        if len(times) < 2 or times[-1] == times[0]:
            return 0.0
        return (len(times) - 1) / (times[-1] - times[0])

    @property
    def status(self) -> str:
        """One of ``connecting``, ``online``, ``error``, ``stopped``."""
        return self._status

    @property
    def last_error(self) -> str | None:
        """Reason of the latest failure (kept after recovery), None if there was none."""
        return self._last_error

    def run_once(self) -> None:
        """One open → read cycle in the calling thread (no reconnect, no status reports).

        Returns when the stream ends or `stop` is called; raises when the open or a read
        fails (`SourceRefused` for a refused source): `describe` words the failure.
        """
        self._session()

    def describe(self, exc: Exception) -> str:
        """A failure of this reader as a status reason, without credentials."""
        if isinstance(exc, av.ExitError | TimeoutError):
            return f"no data for {self.options.timeout_s:g} s (timeout)"
        if isinstance(exc, StreamEnded | StreamStalled):
            return str(exc)
        if isinstance(exc, SourceRefused):
            return redact_text(f"source refused: {exc}", [self.options.url])
        # FFmpeg's messages quote the URL it was given: never pass the credentials on.
        return redact_text(f"{type(exc).__name__}: {exc}", [self.options.url])

    # -- thread --------------------------------------------------------------------------

    def _run(self) -> None:
        delay = self.options.backoff_initial_s
        while not self._stop_event.is_set():
            self._set_status("connecting", None)
            self._online = False
            try:
                self._session()
                reason = "stream ended"
            except Exception as exc:  # noqa: BLE001 - the reader thread must never die
                reason = self.describe(exc)
            if self._stop_event.is_set():
                break
            if self._online:
                delay = self.options.backoff_initial_s
            self._last_error = reason
            self._set_status("error", reason)
            log.warning("ingest %s: %s; reopening in %.1f s", self._name, reason, delay)
            if self._stop_event.wait(delay):
                break
            delay = min(delay * 2, self.options.backoff_max_s)
        self._set_status("stopped", None)

    def _session(self) -> None:
        """One open → read cycle; returns at the end of a live stream, raises on failure."""
        source, container = open_source(self.options)
        self._synced, self._skip_frame = True, "DEFAULT"  # a fresh decoder
        try:
            video = container.streams.video[0] if container.streams.video else None
            if video is None:
                raise StreamEnded("no video stream")
            # Audio recordings can carry (AAC, Opus, MP3 as they are; G.711 as AAC): others
            # are left out rather than failing the segments.
            audio = [s for s in container.streams.audio if s.codec_context.name in
                     RECORDED_AUDIO_CODECS][:1]
            streams = [video, *audio]
            self._sink.on_open(streams)
            if source.is_file:
                self._play_file(container, streams, video)
            else:
                self._play_live(container, streams, video)
        finally:
            container.close()

    def _play_live(self, container: av.container.InputContainer, streams: list,
                   video: av.VideoStream) -> None:
        """Read a network stream until it ends, stalls or the reader stops."""
        timeout = self.options.timeout_s
        requested = time.monotonic()
        for packet in container.demux(streams):
            # When PyAV's read timeout fires, FFmpeg's H.264 parser first flushes the frame it
            # held back and only the next read fails: a packet that took the whole timeout to
            # come is that flush, so the stall is reported now instead of after 2x timeout_s.
            if time.monotonic() - requested >= timeout:
                raise StreamStalled(f"no data for {timeout:g} s (timeout)")
            if self._stop_event.is_set():
                return
            self._handle(packet, video)
            requested = time.monotonic()

    def _play_file(self, container: av.container.InputContainer, streams: list,
                   video: av.VideoStream) -> None:
        """Loop a local file forever at real-time pace, shifting timestamps each loop."""
        offset = Fraction(0)  # seconds added to every timestamp of the current loop
        loop_length: Fraction | None = None
        origin: tuple[float, float] | None = None  # (monotonic clock, media seconds)
        while not self._stop_event.is_set():
            first: Fraction | None = None
            last: Fraction | None = None
            for packet in container.demux(streams):
                if self._stop_event.is_set():
                    return
                ts = packet.dts if packet.dts is not None else packet.pts
                if packet.size == 0 or ts is None or packet.time_base is None:
                    self._handle(packet, video)
                    continue
                start = ts * packet.time_base
                end = start + (packet.duration or 0) * packet.time_base
                first = start if first is None else min(first, start)
                last = end if last is None else max(last, end)
                origin = self._pace(float(start + offset), origin)
                if origin is None:
                    return
                if offset:
                    shift = round(offset / packet.time_base)
                    packet.dts = packet.dts + shift if packet.dts is not None else None
                    packet.pts = packet.pts + shift if packet.pts is not None else None
                self._handle(packet, video)
            if first is None or last is None:
                raise StreamEnded("file has no packets")
            if loop_length is None:
                loop_length = max(last - first, Fraction(1, 1000))
            offset += loop_length
            container.seek(0)

    def _pace(
        self, media_time: float, origin: tuple[float, float] | None
    ) -> tuple[float, float] | None:
        """Sleep until ``media_time`` is due; returns the clock origin, None when stopping."""
        now = time.monotonic()
        if origin is None:
            return (now, media_time)
        wait = origin[0] + (media_time - origin[1]) - now
        if wait < -MAX_LAG_S:
            return (now, media_time)
        if wait > 0 and self._stop_event.wait(wait):
            return None
        return origin

    def _handle(self, packet: av.Packet, video: av.VideoStream) -> None:
        is_video = packet.stream_index == video.index
        frames: list[av.VideoFrame] = []
        if is_video and self.options.decode and self._wants_decode(packet, video):
            try:
                frames = packet.decode()
            except av.FFmpegError as exc:  # one corrupt packet must not end the stream
                log.debug("ingest %s: decode error %s", self._name, exc)
        if packet.size > 0:  # size 0: demux's end-of-stream flush packet, frames only
            if not self._online:
                self._online = True
                self._set_status("online", None)
            self._call_sink(self._sink.on_packet, packet)
            if is_video:
                self._count_frame()
        for frame in frames:
            self.frames_decoded += 1
            self._call_sink(self._sink.on_frame, frame, time.time())

    def _wants_decode(self, packet: av.Packet, video: av.VideoStream) -> bool:
        """Whether this video packet is decoded, under `IngestOptions.idle_decode`."""
        mode = self.options.idle_decode
        if mode == "all" or packet.size == 0:
            return True
        idle = self._may_reduce is not None and self._may_reduce()
        if mode == "reduced":
            wanted: Literal["NONREF", "DEFAULT"] = "NONREF" if idle else "DEFAULT"
            if wanted != self._skip_frame:
                video.codec_context.skip_frame = wanted
                self._skip_frame = wanted
            return True
        if packet.is_keyframe:
            self._synced = True
            return True
        if idle or not self._synced:
            self._synced = False  # the frames after this one cannot decode before a keyframe
            self.packets_skipped += 1
            return False
        return True

    def _count_frame(self) -> None:
        now = time.monotonic()
        with self._lock:
            self._frame_times.append(now)
            while self._frame_times and now - self._frame_times[0] > FPS_WINDOW_S:
                self._frame_times.popleft()

    def _call_sink(self, method, *args) -> None:  # noqa: ANN001 - any sink callback
        try:
            method(*args)
        except Exception:  # noqa: BLE001 - a sink bug must not stop ingest
            self._sink_failures += 1
            if self._sink_failures == 1 or self._sink_failures % 1000 == 0:
                log.exception("ingest %s: sink %s failed (%d times)", self._name,
                              getattr(method, "__name__", method), self._sink_failures)

    def _set_status(self, status: str, reason: str | None) -> None:
        self._status = status
        try:
            self._sink.on_status(status, reason)
        except Exception:  # noqa: BLE001
            log.exception("ingest %s: sink on_status failed", self._name)
