"""Presence segments: how long an identity dwelt on each camera, folded from its sightings."""

from __future__ import annotations

from sqlalchemy import delete, select
from sqlmodel import Session, col

from iris.db.tables import PresenceSegment, Sighting
from iris.models.identity_time import to_dt, to_epoch


def extend_presence(
    session: Session, identity_id: int, camera_id: int, start: float, end: float, gap_s: float
) -> float:
    """Fold ``[start, end]`` into the identity's segments on a camera; returns added seconds.

    Segments within ``gap_s`` of the interval (or of each other through it) become one.
    """
    near = session.execute(
        select(PresenceSegment)
        .where(col(PresenceSegment.identity_id) == identity_id)
        .where(col(PresenceSegment.camera_id) == camera_id)
        .where(col(PresenceSegment.start) <= to_dt(end + gap_s))
        .where(col(PresenceSegment.end) >= to_dt(start - gap_s))
        .order_by(col(PresenceSegment.start))
    ).scalars().all()
    before = sum(seg.seconds for seg in near)
    lo = min([start, *(to_epoch(seg.start) for seg in near)])
    hi = max([end, *(to_epoch(seg.end) for seg in near)])
    if near:
        keep, extra = near[0], near[1:]
        for seg in extra:
            session.delete(seg)
        keep.start, keep.end, keep.seconds = to_dt(lo), to_dt(hi), hi - lo
    else:
        session.add(
            PresenceSegment(
                identity_id=identity_id,
                camera_id=camera_id,
                start=to_dt(lo),
                end=to_dt(hi),
                seconds=hi - lo,
            )
        )
    return (hi - lo) - before


def rebuild_presence(session: Session, identity_id: int, gap_s: float) -> float:
    """Regenerate an identity's segments from its sightings; returns total seconds."""
    session.execute(delete(PresenceSegment).where(col(PresenceSegment.identity_id) == identity_id))
    rows = session.execute(
        select(col(Sighting.camera_id), col(Sighting.ts), col(Sighting.end_ts))
        .where(col(Sighting.identity_id) == identity_id)
        .order_by(col(Sighting.camera_id), col(Sighting.ts))
    ).all()
    total = 0.0
    current: list[float] | None = None
    current_cam: int | None = None
    for camera_id, ts, end_ts in [*rows, (None, None, None)]:
        start = to_epoch(ts) if ts is not None else 0.0
        end = to_epoch(end_ts) if end_ts is not None else start
        if current is not None and (camera_id != current_cam or start > current[1] + gap_s):
            assert current_cam is not None
            seconds = current[1] - current[0]
            session.add(
                PresenceSegment(
                    identity_id=identity_id,
                    camera_id=current_cam,
                    start=to_dt(current[0]),
                    end=to_dt(current[1]),
                    seconds=seconds,
                )
            )
            total += seconds
            current = None
        if camera_id is None:
            break
        if current is None:
            current, current_cam = [start, max(start, end)], camera_id
        else:
            current[1] = max(current[1], end)
    return total
