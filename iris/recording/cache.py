"""Clips cut on demand from the recording store, kept in a per-camera cache (no Ray).

An event's clip, a manual recording's or an export's is a time range over the camera's
segments. The first request cuts it (remux, no transcoding) into
``clips/<camera>/cache/<name>.mp4``; later requests (a player's Range requests) are served
from that file. A range whose footage may still grow (an event in progress, a range ending now)
is cut as ``<name>.upto-<last segment id>.mp4``: each such build is fixed, so a player that
goes on reading one (`continuation`) keeps getting the same bytes, while a new request sees the
footage recorded since. Retention evicts cached clips (`clip_cache_hours`).
"""

from __future__ import annotations

import os
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.engine import Engine
from sqlmodel import Session, col

from iris.db.tables import RecordingSegment
from iris.layout import Layout
from iris.recording.clip import ClipUnavailable, assemble_clip
from iris.recording.index import segments_between

#: A range whose end is this far in the past has all the footage it will ever have.
SETTLED_AFTER_S = 600.0

# Two requests for one clip cut it once: a lock per clip name (striped, so the set is bounded).
_LOCKS = tuple(threading.Lock() for _ in range(64))


@dataclass(frozen=True)
class CutClip:
    """A clip file in the cache; `duration` when this call cut it, `final` when it will not
    grow any more."""

    path: Path
    final: bool
    duration: float | None = None


def _lock(path: Path) -> threading.Lock:
    return _LOCKS[hash(path) % len(_LOCKS)]


def _touch(path: Path) -> bool:
    """Mark a cached clip as read now (eviction goes by it); False when it is gone."""
    try:
        os.utime(path)
    except FileNotFoundError:
        return False
    return True


def _settled(session: Session, camera_id: int, end: float, now: float) -> bool:
    """No more footage can appear in a range ending at `end`: it lies well in the past, or the
    camera has recorded beyond it."""
    if end < now - SETTLED_AFTER_S:
        return True
    later = session.execute(select(col(RecordingSegment.id)).where(
        col(RecordingSegment.camera_id) == camera_id,
        col(RecordingSegment.start) >= end).limit(1)).first()
    return later is not None


def cut_clip(engine: Engine, layout: Layout, *, camera_id: int, start: float, end: float,
             name: str, continuation: bool = False, now: float | None = None) -> CutClip:
    """The cached clip of [start, end] named `name`, cut now if need be.

    Args:
        continuation: the caller is reading on in a clip it already has (a Range request
            past the first byte): return the newest build of `name` rather than a new one.

    Raises:
        ClipUnavailable: nothing was recorded in the range.
    """
    now = time.time() if now is None else now
    folder = layout.clip_cache(camera_id)
    final = folder / f"{name}.mp4"
    if _touch(final):
        return CutClip(final, final=True)
    if continuation:
        builds = sorted(folder.glob(f"{name}.upto-*.mp4"), key=_mtime, reverse=True)
        if builds and _touch(builds[0]):
            return CutClip(builds[0], final=False)
    with Session(engine) as session:
        segments = segments_between(session, layout=layout, camera_id=camera_id,
                                    start=start, end=end)
        if not segments:
            raise ClipUnavailable(f"nothing was recorded between {start:.1f} and {end:.1f}")
        settled = segments[-1].end >= end or _settled(session, camera_id, end, now)
    target = final if settled else folder / f"{name}.upto-{segments[-1].id}.mp4"
    with _lock(target):
        if _touch(target):
            return CutClip(target, final=settled)
        duration = assemble_clip(segments, start, end, target)
    if settled:
        for partial in folder.glob(f"{name}.upto-*.mp4"):
            partial.unlink(missing_ok=True)
    return CutClip(target, final=settled, duration=duration)


def _mtime(path: Path) -> float:
    try:
        return path.stat().st_mtime
    except FileNotFoundError:
        return 0.0
