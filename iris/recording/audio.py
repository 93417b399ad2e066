"""Sound in recordings: which audio codecs are copied, and G.711 transcoded to AAC (no Ray).

MP4 (and so segments, clips and the VOD playlist) carries AAC, Opus and MP3 as they come. G.711
(A-law / µ-law, the default audio of many Hikvision and Dahua cameras) it cannot carry, so it is
decoded and encoded to AAC-LC, mono, at the source's rate (8 kHz): a few hundred samples per
packet, which costs next to nothing beside video decoding.
"""

from __future__ import annotations

import io
from fractions import Fraction
from typing import cast

import av

COPIED_AUDIO_CODECS = frozenset({"aac", "mp3", "opus"})
"""Audio an MP4 segment carries as it is."""
TRANSCODED_AUDIO_CODECS = frozenset({"pcm_alaw", "pcm_mulaw"})
"""Audio recorded as AAC (G.711 A-law and µ-law)."""
RECORDED_AUDIO_CODECS = COPIED_AUDIO_CODECS | TRANSCODED_AUDIO_CODECS
AAC_BIT_RATE = 32_000
#: A jump of the source's audio clock larger than this restarts the encoder's timeline there.
RESYNC_S = Fraction(1, 2)


def needs_transcoding(stream: av.stream.Stream) -> bool:
    """True for audio the writer must turn into AAC (G.711)."""
    return stream.type == "audio" and stream.codec_context.name in TRANSCODED_AUDIO_CODECS


class AacTranscoder:
    """Decodes one source audio stream and encodes it as AAC-LC mono at the source's rate.

    `template` is an output stream of the encoder's parameters, for `add_stream_from_template`
    (segments mirror it); `transcode` turns one source packet into zero or more AAC packets
    whose timestamps (time base 1/rate) follow the source packet's clock.
    """

    def __init__(self, source: av.stream.Stream) -> None:
        context = cast(av.AudioCodecContext, source.codec_context)
        self.rate = int(context.sample_rate or 8000)
        self.time_base = Fraction(1, self.rate)
        self.seconds = 1.0 / self.rate  # one tick of the AAC timestamps
        self._decoder = cast(av.AudioCodecContext, av.CodecContext.create(context.name, "r"))
        self._decoder.sample_rate = self.rate
        self._decoder.layout = context.layout.name if context.layout is not None else "mono"
        self._decoder.open()
        # The template lives in a container that is never written: only its parameters count.
        self._holder = av.open(io.BytesIO(), "w", format="mp4")
        self.template = self._holder.add_stream("aac", rate=self.rate, layout="mono")
        self.template.time_base = self.time_base
        encoder = self.template.codec_context
        encoder.time_base = self.time_base
        encoder.bit_rate = AAC_BIT_RATE
        encoder.open()
        self._encoder = encoder
        self._resampler = av.AudioResampler(format="fltp", layout="mono", rate=self.rate)
        self._fifo = av.AudioFifo()
        self._next_pts: int | None = None  # pts (1/rate) of the first sample in the fifo

    def transcode(self, packet: av.Packet) -> list[av.Packet]:
        """AAC packets for one source packet (often none: the encoder works in 1024 samples)."""
        ts = packet.pts if packet.pts is not None else packet.dts
        if ts is None or packet.time_base is None:
            return []
        start = round(ts * packet.time_base / self.time_base)
        expected = None if self._next_pts is None else self._next_pts + self._fifo.samples
        if expected is None or abs(start - expected) > RESYNC_S / self.time_base:
            # First packet, or the source's clock jumped (reconnect, loss): restart the
            # timeline at this packet; less than one frame of buffered audio is dropped.
            self._fifo = av.AudioFifo()
            self._next_pts = start
        for frame in self._decoder.decode(packet):
            for resampled in self._resampler.resample(frame):
                resampled.pts = None  # the fifo keeps its own count; we stamp what it returns
                self._fifo.write(resampled)
        return self._drain(self._encoder.frame_size or 1024)

    def _drain(self, frame_size: int) -> list[av.Packet]:
        packets: list[av.Packet] = []
        while self._fifo.samples >= frame_size and self._next_pts is not None:
            frame = self._fifo.read(frame_size)
            if frame is None:
                break
            frame.pts = self._next_pts
            frame.time_base = self.time_base
            self._next_pts += frame_size
            for encoded in self._encoder.encode(frame):
                encoded.time_base = self.time_base
                packets.append(encoded)
        return packets

    def close(self) -> None:
        """Release the codec contexts' holder."""
        self._holder.close()
