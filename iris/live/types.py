"""What a camera's live MP4 producer hands out, as plain values that cross Ray hops (no PyAV)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Fragment:
    """One ``moof``+``mdat`` of a session: its number, whether it opens on a keyframe, bytes."""

    seq: int
    keyframe: bool
    data: bytes


@dataclass(frozen=True)
class LiveInit:
    """What a player needs before the fragments: the session, its codecs and init segment.

    Attributes:
        epoch: the session (unique across camera restarts); fragments belong to one epoch.
        codecs: the RFC 6381 codecs string, e.g. ``avc1.64001f,mp4a.40.2``.
        data: ``ftyp`` + ``moov``.
        width, height: the video's size.
        audio: whether the stream carries sound.
    """

    epoch: int
    codecs: str
    data: bytes
    width: int
    height: int
    audio: bool


@dataclass(frozen=True)
class LiveUnavailable:
    """Why a camera has no live MP4 stream now (its `reason` is shown to the user)."""

    reason: str
