"""The RFC 6381 codecs string a browser's MSE needs, read from an init segment (no Ray).

``MediaSource.isTypeSupported('video/mp4; codecs="avc1.64001f,mp4a.40.2"')`` is how the SPA
decides whether it can play a camera's stream before opening it. The string comes from each
track's sample description in the ``moov`` the muxer wrote: the ``avcC`` / ``hvcC`` decoder
configuration records (profile, constraints, level) and the AAC AudioSpecificConfig in
``esds``. Reading the muxer's output rather than the input's extradata covers every source the
same way: RTSP hands H.264 and H.265 parameter sets over as Annex-B, MP4 files as ``avcC``.
"""

from __future__ import annotations

from iris.live.boxes import Box, child, find, iter_boxes

VISUAL_ENTRY = 78  # bytes of a VisualSampleEntry before its child boxes
AUDIO_ENTRY = 28  # bytes of a (version 0) AudioSampleEntry before its child boxes
_HEVC_SPACES = ("", "A", "B", "C")


class UnknownCodec(ValueError):
    """A track whose codec has no MSE codecs string here."""


def avc_codec(kind: bytes, record: bytes) -> str:
    """``avc1.PPCCLL`` from an ``avcC`` record: profile, constraint flags, level (hex)."""
    if len(record) < 4:
        raise UnknownCodec("truncated avcC")
    return f"{kind.decode()}.{record[1]:02x}{record[2]:02x}{record[3]:02x}"


def hevc_codec(kind: bytes, record: bytes) -> str:
    """``hvc1.<space><profile>.<compat>.<tier><level>.<constraints>`` (ISO/IEC 14496-15 E.3)."""
    if len(record) < 13:
        raise UnknownCodec("truncated hvcC")
    space, tier, profile = record[1] >> 6, (record[1] >> 5) & 1, record[1] & 0x1F
    compat = int.from_bytes(record[2:6], "big")
    reversed_compat = int(f"{compat:032b}"[::-1], 2)
    constraints = list(record[6:12])
    while constraints and constraints[-1] == 0:
        constraints.pop()
    parts = [kind.decode(), f"{_HEVC_SPACES[space]}{profile}", f"{reversed_compat:x}",
             f"{'H' if tier else 'L'}{record[12]}", *(f"{byte:02X}" for byte in constraints)]
    return ".".join(parts)


def _descriptor(data: bytes, offset: int) -> tuple[int, int, int]:
    """(tag, payload offset, payload size) of the MPEG-4 descriptor at ``offset``."""
    tag, size, offset = data[offset], 0, offset + 1
    for _ in range(4):
        byte = data[offset]
        offset += 1
        size = (size << 7) | (byte & 0x7F)
        if not byte & 0x80:
            break
    return tag, offset, size


def mp4a_codec(esds: bytes) -> str:
    """``mp4a.40.<object type>`` for AAC, ``mp4a.<oti>`` for other MPEG audio, from ``esds``."""
    tag, offset, _ = _descriptor(esds, 4)  # after the full box's version and flags
    if tag != 0x03:
        raise UnknownCodec("esds without an ES descriptor")
    flags = esds[offset + 2]
    offset += 3 + (2 if flags & 0x80 else 0) + (2 if flags & 0x20 else 0)
    if flags & 0x40:
        offset += 1 + esds[offset]
    tag, offset, _ = _descriptor(esds, offset)
    if tag != 0x04:
        raise UnknownCodec("esds without a decoder config")
    oti = esds[offset]
    if oti != 0x40:
        return f"mp4a.{oti:02X}"  # e.g. mp4a.6B for MP3
    tag, offset, size = _descriptor(esds, offset + 13)
    if tag != 0x05 or size < 1:
        return "mp4a.40.2"  # no AudioSpecificConfig: AAC-LC is what cameras send
    object_type = esds[offset] >> 3
    if object_type == 31 and size >= 2:
        object_type = 32 + (((esds[offset] & 0x07) << 3) | (esds[offset + 1] >> 5))
    return f"mp4a.40.{object_type}"


def _entry_codec(init: bytes, entry: Box) -> str:
    kind = entry.type
    if kind in (b"avc1", b"avc3"):
        config = child(init, entry, b"avcC", VISUAL_ENTRY)
        if config is None:
            raise UnknownCodec(f"{kind.decode()} without avcC")
        return avc_codec(kind, init[config.start:config.end])
    if kind in (b"hvc1", b"hev1"):
        config = child(init, entry, b"hvcC", VISUAL_ENTRY)
        if config is None:
            raise UnknownCodec(f"{kind.decode()} without hvcC")
        return hevc_codec(kind, init[config.start:config.end])
    if kind == b"mp4a":
        esds = child(init, entry, b"esds", AUDIO_ENTRY)
        return mp4a_codec(init[esds.start:esds.end]) if esds is not None else "mp4a.40.2"
    if kind == b"Opus":
        return "opus"
    raise UnknownCodec(f"no MSE codecs string for sample entry {kind!r}")


def codecs_string(init: bytes) -> str:
    """The comma-separated codecs of every track in an init segment, in track order.

    Raises:
        UnknownCodec: a track's sample entry is not one browsers play through MSE here.
    """
    codecs = []
    for stsd in find(init, [b"moov", b"trak", b"mdia", b"minf", b"stbl", b"stsd"]):
        entry = next(iter_boxes(init, stsd.start + 8, stsd.end), None)  # after flags, count
        if entry is None:
            raise UnknownCodec("track without a sample description")
        codecs.append(_entry_codec(init, entry))
    return ",".join(codecs)
