"""A camera's live stream as fragmented MP4, remuxed from its packets while anyone watches (no Ray).

`LiveMp4` is fed the camera's demuxed packets (the ones the recorder remuxes: no decode, no
encode) on the ingest thread. While nobody watches it only keeps the packets since the last
video keyframe, so a first viewer gets a picture at once instead of after a whole GOP. The first
`init` call starts a session: an in-memory MP4 muxer (``frag_keyframe+empty_moov+
default_base_moof``, ``frag_duration``) that writes an init segment (``ftyp``+``moov``) and then
one ``moof``+``mdat`` fragment per keyframe interval or `fragment_s`, whichever is shorter.
Fragments go into a small ring with sequence numbers and keyframe flags, which `fragments`
long-polls, `follow` streams and `push` writes to a reader's socket as they are cut
(`iris.live.push`). A session stops `idle_s` after the last call with no push open, and ends (a
new epoch begins) when the stream reopens or its timeline jumps; callers holding the old epoch
learn that it ended.

Audio goes along when it is AAC, Opus or MP3; G.711 is transcoded to AAC with the recorder's
transcoder (`iris.recording.audio`), a few hundred samples per packet.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator
from fractions import Fraction

import av

from iris.live.boxes import BoxSplitter, starts_with_sync_sample, track_ids, trex_flags
from iris.live.codecs import UnknownCodec, codecs_string
from iris.live.push import FragmentPush
from iris.live.types import Fragment, LiveInit, LiveUnavailable
from iris.recording.audio import RECORDED_AUDIO_CODECS, AacTranscoder, needs_transcoding
from iris.recording.segment import add_stream, remuxed

log = logging.getLogger(__name__)

FRAGMENT_S = 0.5
"""Longest fragment (seconds): a fragment also ends at every video keyframe."""
IDLE_S = 15.0
"""A session nobody asked anything of for this long stops muxing."""
RING_FRAGMENTS = 48
RING_BYTES = 16 << 20
HOLD_PACKETS = 24
HOLD_S = 0.1
"""Packets are cached and muxed in batches of up to `HOLD_PACKETS`, none held longer than
`HOLD_S`: on this box one pass over a batch cost a third of a pass per packet (the code stays
warm). Near a fragment's end (a keyframe came, or `fragment_s` − `HOLD_S` since the last one)
each packet is muxed as it comes, so no fragment waits for a batch."""
GOP_CACHE_PACKETS = 1500
"""Packets kept since the last keyframe at most (a stream without keyframes keeps none)."""
MAX_JUMP_S = Fraction(5)
"""A video timestamp jump larger than this (or backwards) ends the epoch."""
NO_VIDEO = "the camera sends no video yet"
NO_KEYFRAME = "waiting for the camera's next keyframe"
MP4_OPTIONS = {
    "movflags": "frag_keyframe+empty_moov+default_base_moof",
    # Without a bound the interleaver holds video up to 10 s when audio pauses.
    "max_interleave_delta": "500000",
}


class _Session:
    """One muxer run: starts at a video keyframe, timestamps rebased to it."""

    def __init__(self, epoch: int, video: av.stream.Stream, audio: av.stream.Stream | None,
                 transcoder: AacTranscoder | None, fragment_s: float) -> None:
        self.epoch = epoch
        self.splitter = BoxSplitter()
        options = {**MP4_OPTIONS, "frag_duration": str(int(fragment_s * 1e6))}
        self.output = av.open(self.splitter, "w", format="mp4", options=options)
        self.video_index = video.index
        self.outputs = {video.index: add_stream(self.output, video)}
        self.transcoder = transcoder
        if audio is not None:
            template = transcoder.template if transcoder is not None else audio
            self.outputs[audio.index] = add_stream(self.output, template)
        self.audio_index = audio.index if audio is not None else None
        self.width = int(getattr(video.codec_context, "width", 0) or 0)
        self.height = int(getattr(video.codec_context, "height", 0) or 0)
        self.start: Fraction | None = None  # media time of the first keyframe
        self.last_dts: dict[int, int] = {}
        # Per stream, in its own ticks: its time base and where the session starts. Integer
        # arithmetic per packet (PyAV builds a new Fraction on every read of a time base).
        self._time_bases: dict[int, Fraction] = {}
        self._bases: dict[int, int] = {}
        self._last_video_ts: int | None = None
        self._max_jump = 0
        self.init: LiveInit | None = None
        self._init_parts: list[bytes] = []
        self._moof: bytes | None = None
        self._video_track = 1
        self._video_flags = 0
        # The header needs only the streams' parameters: a player can set up its decoder
        # while the first keyframe is still on its way.
        self.output.start_encoding()
        self._collect()

    def feed(self, packet: av.Packet) -> list[tuple[bool, bytes]] | None:
        """Mux one packet; the fragments it completed, or None when the timeline broke."""
        index = packet.stream_index
        if index not in self.outputs:
            return []
        if index == self.audio_index and self.transcoder is not None:
            packets = self.transcoder.transcode(packet)
        else:
            packets = [packet]
        for item in packets:
            if self._mux(item, index) is False:
                return None
        return self._collect()

    def _mux(self, packet: av.Packet, index: int) -> bool | None:
        ts = packet.dts
        if ts is None:
            ts = packet.pts
        if ts is None or packet.size == 0:
            return None
        time_base = self._time_bases.get(index)
        if time_base is None:
            if packet.time_base is None:
                return None
            time_base = self._time_bases[index] = packet.time_base
        if index == self.video_index:
            if self.start is None:
                if not packet.is_keyframe:
                    return None  # a session opens on a keyframe
                self.start = ts * time_base
                self._max_jump = int(MAX_JUMP_S / time_base)
            last = self._last_video_ts
            if last is not None and (ts < last or ts - last > self._max_jump):
                return False
            self._last_video_ts = ts
        elif self.start is None:
            return None
        base = self._bases.get(index)
        if base is None:
            base = self._bases[index] = round(self.start / time_base)
        dts = ts - base
        last_dts = self.last_dts.get(index)
        if dts < 0 or (last_dts is not None and dts <= last_dts):
            return None  # before the first keyframe, or a DTS the muxer would refuse
        pts = packet.pts
        self.output.mux(remuxed(packet, dts, pts - base if pts is not None else None,
                                self.outputs[index], time_base))
        self.last_dts[index] = dts
        return True

    def _collect(self) -> list[tuple[bool, bytes]]:
        done = []
        for kind, data in self.splitter.boxes():
            if kind in (b"ftyp", b"moov"):
                self._init_parts.append(data)
                if kind == b"moov":
                    self._finish_init()
            elif kind == b"moof":
                self._moof = data
            elif kind == b"mdat" and self._moof is not None:
                key = starts_with_sync_sample(self._moof, self._video_track, self._video_flags)
                done.append((key, self._moof + data))
                self._moof = None
        return done

    def _finish_init(self) -> None:
        data = b"".join(self._init_parts)
        videos = track_ids(data, b"vide")
        self._video_track = videos[0] if videos else 1
        self._video_flags = trex_flags(data).get(self._video_track, 0)
        self.init = LiveInit(self.epoch, codecs_string(data), data, self.width, self.height,
                             self.audio_index is not None)

    def close(self) -> None:
        try:
            self.output.close()
        except (av.FFmpegError, OSError, ValueError) as exc:  # nothing was muxed yet
            log.debug("live session %s: %s", self.epoch, exc)
        if self.transcoder is not None:
            self.transcoder.close()


class LiveMp4:
    """The camera's fragmented-MP4 producer: fed on the ingest thread, read by viewers' calls.

    Args:
        fragment_s: longest fragment in seconds.
        idle_s: a session stops this long after its last `init` / `fragments` call.
        clock: monotonic seconds (tests pass their own).
    """

    def __init__(self, fragment_s: float = FRAGMENT_S, idle_s: float = IDLE_S,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.fragment_s = fragment_s
        self.idle_s = idle_s
        self._clock = clock
        self._cond = threading.Condition()
        self._video: av.stream.Stream | None = None
        self._audio: av.stream.Stream | None = None
        self._gop: list[av.Packet] = []
        self._session: _Session | None = None
        self._ring: deque[Fragment] = deque()
        self._ring_bytes = 0
        self._seq = 0
        self._wanted_at = -float("inf")
        self._pushes: list[FragmentPush] = []
        self._held: list[av.Packet] = []  # the ingest thread's alone: no lock
        self._held_since = 0.0
        self._cut_due = False  # a keyframe came and its fragment is not out yet
        self._last_cut = -float("inf")
        self._unplayable: str | None = None
        self.sessions = 0
        self.fragments_made = 0

    @property
    def held(self) -> int:
        """Packets waiting for their batch (`HOLD_PACKETS`, `HOLD_S`)."""
        return len(self._held)

    @property
    def running(self) -> bool:
        """Whether a session is muxing now (someone watched within `idle_s`)."""
        return self._session is not None

    # ------------------------------------------------------------------ ingest thread
    def open_streams(self, streams: list) -> None:
        """The stream (re)opened: forget its packets; a running session ends (new epoch)."""
        self._held = []
        with self._cond:
            self._stop_session("stream reopened")
            self._gop = []
            videos = [s for s in streams if s.type == "video"]
            self._video = videos[0] if videos else None
            audios = [s for s in streams if s.type == "audio"
                      and s.codec_context.name in RECORDED_AUDIO_CODECS]
            self._audio = audios[0] if audios else None
            self._unplayable = None
            self._cond.notify_all()  # a viewer waiting for video can start a session now

    def packet(self, packet: av.Packet) -> None:
        """One demuxed packet, as the ingest hands it to every sink (left untouched).

        Held with the few before it and handled as a batch (`HOLD_PACKETS`, `HOLD_S`).
        """
        held = self._held
        now = self._clock()
        if not held:
            self._held_since = now
        held.append(packet)
        if self._session is not None:
            video = self._video
            if video is not None and packet.is_keyframe and packet.stream_index == video.index:
                self._cut_due = True
            if self._cut_due or now - self._last_cut >= self.fragment_s - HOLD_S:
                self.flush()  # a fragment may end with this packet: no wait added to it
                return
        if len(held) >= HOLD_PACKETS or now - self._held_since >= HOLD_S:
            self.flush()

    def flush(self) -> None:
        """Cache and mux the packets held so far (the ingest thread's, like `packet`)."""
        held, self._held = self._held, []
        with self._cond:
            for packet in held:
                self._cache(packet)
            session = self._session
            if session is None or not held:
                return
            if self._pushes:
                self._flush_pushes()
            if self._clock() - self._wanted_at > self.idle_s:
                self._stop_session("nobody watching")
                return
            for packet in held:
                if self._session is not session:
                    return  # the batch ended the session (timeline jump, codec)
                self._feed(session, packet)

    def close(self) -> None:
        """The camera stops: end the session and wake every waiting call."""
        with self._cond:
            self._stop_session("camera stopping")
            self._video = None

    # ------------------------------------------------------------------ viewers' calls
    def init(self, wait_s: float) -> LiveInit | LiveUnavailable:
        """The running session's init segment, starting a session if none runs.

        Waits up to `wait_s` for it (a session opens on a keyframe); `LiveUnavailable` says
        why there is none: no video yet, or a codec that has no MSE codecs string.
        """
        deadline = self._clock() + wait_s
        with self._cond:
            self._wanted_at = self._clock()
            while True:
                if self._unplayable is not None:
                    return LiveUnavailable(self._unplayable)
                if self._session is None:
                    self._start_session()
                session = self._session
                if session is not None and session.init is not None:
                    return session.init
                remaining = deadline - self._clock()
                if remaining <= 0:
                    return LiveUnavailable(NO_VIDEO if self._video is None else NO_KEYFRAME)
                self._cond.wait(remaining)

    def fragments(self, epoch: int, after_seq: int, wait_s: float) -> list[Fragment] | None:
        """Fragments of `epoch` numbered above `after_seq`, waiting up to `wait_s` for one.

        `after_seq` -1 asks for the newest keyframe fragment and those after it. An empty list
        when none came in time; None when that epoch has ended (the stream reopened, the
        session stopped): the caller starts over with `init`.
        """
        deadline = self._clock() + wait_s
        with self._cond:
            self._wanted_at = self._clock()
            while True:
                session = self._session
                if session is None or session.epoch != epoch:
                    return None
                newer = self._after(after_seq)
                remaining = deadline - self._clock()
                if newer or remaining <= 0:
                    return newer
                self._cond.wait(remaining)

    def push(self, push: FragmentPush, after_seq: int) -> bool:
        """Write `push.epoch`'s fragments after `after_seq` to a reader, then each new one.

        `after_seq` -1 starts at the newest keyframe fragment. The session lasts while a push
        is open; False (and the push ended) when that epoch is already over.
        """
        with self._cond:
            session = self._session
            if session is None or session.epoch != push.epoch:
                push.end()
                return False
            self._wanted_at = self._clock()
            push.offer(self._after(after_seq))
            if not push.closed:
                self._pushes.append(push)
            return True

    def follow(self, epoch: int, after_seq: int, wait_s: float, span_s: float,
               stop: Callable[[], bool] = lambda: False) -> Iterator[list[Fragment] | None]:
        """`fragments` as a stream, for one long call instead of a call per fragment.

        Yields each new batch of `epoch` as it comes, an empty batch after `wait_s` without
        one (so a reader can tell a quiet camera from a lost one), and None, last, when the
        epoch ends. Returns after `span_s`, or after a yield once `stop()` holds (the reader
        went away).
        """
        deadline = self._clock() + span_s
        while not stop():
            remaining = deadline - self._clock()
            if remaining <= 0:
                return
            batch = self.fragments(epoch, after_seq, min(wait_s, remaining))
            yield batch
            if batch is None:
                return
            if batch:
                after_seq = batch[-1].seq

    # ------------------------------------------------------------------ internals (locked)
    def _after(self, after_seq: int) -> list[Fragment]:
        """The ring's fragments above `after_seq`; -1: from the newest keyframe fragment on."""
        if after_seq < 0:
            return self._from_newest_keyframe()
        return [f for f in self._ring if f.seq > after_seq]

    def _from_newest_keyframe(self) -> list[Fragment]:
        ring = list(self._ring)
        keys = [i for i, f in enumerate(ring) if f.keyframe]
        return ring[keys[-1]:] if keys else []

    def _flush_pushes(self) -> None:
        """Send what readers are owed; an open push keeps the session wanted."""
        for push in self._pushes:
            push.flush()
        self._pushes = [push for push in self._pushes if not push.closed]
        if self._pushes:
            self._wanted_at = self._clock()

    def _cache(self, packet: av.Packet) -> None:
        video = self._video
        if video is None or packet.size == 0:
            return
        if packet.stream_index == video.index and packet.is_keyframe:
            self._gop = []
        elif not self._gop:
            return  # nothing is useful before the first keyframe
        if len(self._gop) >= GOP_CACHE_PACKETS:
            self._gop = []
            return
        self._gop.append(packet)

    def _start_session(self) -> None:
        video = self._video
        if video is None or self._unplayable is not None:
            return
        audio = self._audio
        transcoder = AacTranscoder(audio) if audio is not None and needs_transcoding(audio) \
            else None
        try:
            session = _Session(time.time_ns(), video, audio, transcoder, self.fragment_s)
        except (av.FFmpegError, ValueError) as exc:
            self._unplayable = f"cannot mux {video.codec_context.name}: {exc}"
            log.warning("live: %s", self._unplayable)
            return
        self._session = session
        self.sessions += 1
        for cached in self._gop:
            if self._session is not session:
                break
            self._feed(session, cached)

    def _feed(self, session: _Session, packet: av.Packet) -> None:
        had_init = session.init is not None
        try:
            done = session.feed(packet)
        except UnknownCodec as exc:
            self._unplayable = str(exc)
            log.warning("live: no MSE stream for this camera: %s", exc)
            self._stop_session("codec not playable")
            return
        except (av.FFmpegError, OSError, ValueError) as exc:
            log.warning("live: muxing failed (%s); a new session starts", exc)
            self._stop_session("muxing failed")
            return
        if done is None:
            self._stop_session("timeline jumped")
            return
        made = []
        for keyframe, data in done:
            self._seq += 1
            made.append(Fragment(self._seq, keyframe, data))
            self._ring_bytes += len(data)
            self.fragments_made += 1
        self._ring.extend(made)
        if made:
            self._cut_due, self._last_cut = False, self._clock()
            for push in self._pushes:
                push.offer(made)
        while self._ring and (len(self._ring) > RING_FRAGMENTS or self._ring_bytes > RING_BYTES):
            self._ring_bytes -= len(self._ring.popleft().data)
        if done or not had_init and session.init is not None:
            self._cond.notify_all()

    def _stop_session(self, why: str) -> None:
        session, self._session = self._session, None
        if session is None:
            return
        session.close()
        for push in self._pushes:
            push.end()
        self._pushes = []
        self._ring.clear()
        self._ring_bytes = 0
        log.debug("live session %s ended: %s", session.epoch, why)
        self._cond.notify_all()
