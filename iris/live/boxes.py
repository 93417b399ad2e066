"""ISO BMFF (MP4) boxes, as far as live fragmented MP4 needs them (no Ray, no PyAV).

A fragmented MP4 is a sequence of top-level boxes: ``ftyp`` and ``moov`` (the init segment),
then ``moof`` + ``mdat`` pairs (the fragments). `BoxSplitter` cuts a byte stream that arrives
in arbitrary pieces (the muxer's I/O buffer is 32 KiB) into whole top-level boxes;
`starts_with_sync_sample` reads a ``moof`` to tell whether its fragment opens on a keyframe
of a given track, without knowing the codec.
"""

from __future__ import annotations

import struct
from collections.abc import Iterator
from dataclasses import dataclass

HEADER = 8
#: Containers whose children follow their header directly (those the live code walks into).
CONTAINERS = frozenset({b"moov", b"trak", b"mdia", b"minf", b"stbl", b"moof", b"traf",
                        b"mvex", b"edts", b"dinf"})
#: ``sample_is_non_sync_sample`` in ISO/IEC 14496-12 sample flags.
NON_SYNC = 0x00010000
# tfhd / trun flags
_TFHD_BASE_OFFSET, _TFHD_DESCRIPTION, _TFHD_DURATION = 0x01, 0x02, 0x08
_TFHD_SIZE, _TFHD_FLAGS = 0x10, 0x20
_TRUN_OFFSET, _TRUN_FIRST_FLAGS, _TRUN_DURATION, _TRUN_SIZE, _TRUN_FLAGS = (
    0x01, 0x04, 0x100, 0x200, 0x400)


@dataclass(frozen=True)
class Box:
    """One box inside a buffer: its type and where its payload lies (``data[start:end]``)."""

    type: bytes
    start: int
    end: int


Buffer = bytes | bytearray | memoryview


def iter_boxes(data: Buffer, start: int = 0, end: int | None = None) -> Iterator[Box]:
    """The boxes laid one after another in ``data[start:end]``; stops at a truncated one."""
    end = len(data) if end is None else end
    offset = start
    while offset + HEADER <= end:
        size, kind = struct.unpack_from(">I4s", data, offset)
        header = HEADER
        if size == 1:  # 64-bit size follows the type
            if offset + 16 > end:
                return
            size = struct.unpack_from(">Q", data, offset + 8)[0]
            header = 16
        elif size == 0:  # runs to the end of the buffer
            size = end - offset
        if size < header or offset + size > end:
            return
        yield Box(bytes(kind), offset + header, offset + size)
        offset += size


def child(data: Buffer, parent: Box, kind: bytes, skip: int = 0) -> Box | None:
    """The first child box of ``kind`` in ``parent``'s payload, after ``skip`` bytes."""
    return next((box for box in iter_boxes(data, parent.start + skip, parent.end)
                 if box.type == kind), None)


def find(data: Buffer, path: list[bytes], within: Box | None = None) -> list[Box]:
    """Every box at the end of ``path`` (types, one per level) below ``within`` (or the top)."""
    start, end = (0, len(data)) if within is None else (within.start, within.end)
    level = [box for box in iter_boxes(data, start, end) if box.type == path[0]]
    for kind in path[1:]:
        level = [box for parent in level for box in iter_boxes(data, parent.start, parent.end)
                 if box.type == kind]
    return level


class BoxSplitter:
    """Collects written bytes and hands back each complete top-level box as it completes."""

    def __init__(self) -> None:
        self._buffer = bytearray()

    @property
    def pending(self) -> int:
        """Bytes held that do not make a whole box yet."""
        return len(self._buffer)

    def write(self, data: Buffer) -> int:
        """File-like ``write`` for the muxer: keeps the bytes, returns how many."""
        self._buffer += data
        return len(data)

    def boxes(self) -> list[tuple[bytes, bytes]]:
        """(type, whole box bytes) of every box completed since the last call."""
        done: list[tuple[bytes, bytes]] = []
        consumed = 0
        for box in iter_boxes(self._buffer):
            header_start = consumed
            consumed = box.end
            done.append((box.type, bytes(self._buffer[header_start:box.end])))
        if consumed:
            del self._buffer[:consumed]
        return done


def track_ids(init: bytes, handler: bytes) -> list[int]:
    """Track ids in an init segment's ``moov`` whose handler is ``handler`` (b"vide", b"soun")."""
    found = []
    for trak in find(init, [b"moov", b"trak"]):
        hdlr = find(init, [b"mdia", b"hdlr"], trak)
        tkhd = child(init, trak, b"tkhd")
        if not hdlr or tkhd is None:
            continue
        if init[hdlr[0].start + 8:hdlr[0].start + 12] != handler:  # version/flags, pre_defined
            continue
        version = init[tkhd.start]
        found.append(struct.unpack_from(">I", init, tkhd.start + (20 if version == 1 else 12))[0])
    return found


def trex_flags(init: bytes) -> dict[int, int]:
    """Default sample flags per track id from the init segment's ``mvex/trex`` boxes."""
    flags = {}
    for trex in find(init, [b"moov", b"mvex", b"trex"]):
        track_id, _, _, _, default_flags = struct.unpack_from(">5I", init, trex.start + 4)
        flags[track_id] = default_flags
    return flags


def starts_with_sync_sample(moof: bytes, track_id: int, default_flags: int = 0) -> bool:
    """Whether the first sample of ``track_id`` in this ``moof`` is a sync sample (keyframe).

    False when the fragment holds no sample of that track. ``default_flags`` is the track's
    ``trex`` default, used when neither ``tfhd`` nor ``trun`` states the first sample's flags.
    """
    for traf in find(moof, [b"moof", b"traf"]):
        tfhd = child(moof, traf, b"tfhd")
        if tfhd is None:
            continue
        tf_flags = struct.unpack_from(">I", moof, tfhd.start)[0] & 0xFFFFFF
        if struct.unpack_from(">I", moof, tfhd.start + 4)[0] != track_id:
            continue
        flags = default_flags
        offset = tfhd.start + 8
        for bit, size in ((_TFHD_BASE_OFFSET, 8), (_TFHD_DESCRIPTION, 4), (_TFHD_DURATION, 4),
                          (_TFHD_SIZE, 4)):
            offset += size if tf_flags & bit else 0
        if tf_flags & _TFHD_FLAGS:
            flags = struct.unpack_from(">I", moof, offset)[0]
        for trun in (box for box in iter_boxes(moof, traf.start, traf.end) if box.type == b"trun"):
            tr_flags = struct.unpack_from(">I", moof, trun.start)[0] & 0xFFFFFF
            count = struct.unpack_from(">I", moof, trun.start + 4)[0]
            if count == 0:
                continue
            offset = trun.start + 8 + (4 if tr_flags & _TRUN_OFFSET else 0)
            if tr_flags & _TRUN_FIRST_FLAGS:
                flags = struct.unpack_from(">I", moof, offset)[0]
            elif tr_flags & _TRUN_FLAGS:
                offset += 4 if tr_flags & _TRUN_DURATION else 0
                offset += 4 if tr_flags & _TRUN_SIZE else 0
                flags = struct.unpack_from(">I", moof, offset)[0]
            return not flags & NON_SYNC
    return False


def base_decode_time(moof: bytes, track_id: int) -> int | None:
    """The ``tfdt`` base media decode time of ``track_id`` in this ``moof`` (track timescale)."""
    for traf in find(moof, [b"moof", b"traf"]):
        tfhd = child(moof, traf, b"tfhd")
        tfdt = child(moof, traf, b"tfdt")
        if tfhd is None or tfdt is None:
            continue
        if struct.unpack_from(">I", moof, tfhd.start + 4)[0] != track_id:
            continue
        version = moof[tfdt.start]
        fmt = ">Q" if version == 1 else ">I"
        return int(struct.unpack_from(fmt, moof, tfdt.start + 4)[0])
    return None
