"""The corrections' SQL: move sightings between identities with everything hanging off them,
and recompute an identity (counters, presence, representative) from its rows.

Plain functions over a SQLModel `Session`, run inside the correction's transaction; crops move
through its `FileJournal`, which moves them back if the transaction fails.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import UTC

from sqlalchemy import ColumnElement, delete, func, or_, select, update
from sqlmodel import Session, col

from iris.db.tables import Event, FaceSample, Identity, PresenceSegment, Sighting
from iris.identity import presence
from iris.identity.epoch import to_dt, to_epoch
from iris.identity.files import FileJournal, identity_dir
from iris.identity.store import EXEMPLARS

CHUNK = 500
"""Ids per ``IN (…)`` list."""


def move_sightings(
    session: Session,
    journal: FileJournal,
    *,
    src_ids: Sequence[int],
    dst_id: int,
    sighting_ids: Iterable[int] | None = None,
) -> tuple[int, list[int], list[int]]:
    """Move sightings (all of ``src_ids``' or the given ones) with everything hanging off them.

    Exemplars, face samples, crops on disk and denormalised event links follow; for a full
    move presence segments follow too (a partial move leaves them to `recompute_identity`).

    Returns:
        ``(sightings moved, face exemplar ids moved, appearance exemplar ids moved)``.
    """
    full = sighting_ids is None
    owned = select(col(Sighting.id)).where(col(Sighting.identity_id).in_(src_ids))
    if not full:
        owned = owned.where(col(Sighting.id).in_(list(sighting_ids or [])))
    sids = list(session.execute(owned).scalars())
    dst_dir = identity_dir(journal.root, dst_id)
    for chunk in _chunks(sids):
        picked = select(Sighting).where(col(Sighting.id).in_(chunk))
        for sighting in session.execute(picked).scalars():
            sighting.thumb_path = journal.move(sighting.thumb_path, dst_dir)
            sighting.identity_id = dst_id
        theirs: ColumnElement[bool] = col(FaceSample.sighting_id).in_(chunk)
        if full:
            theirs = or_(theirs, col(FaceSample.identity_id).in_(src_ids))
        for sample in session.execute(select(FaceSample).where(theirs)).scalars():
            sample.crop_path = journal.move(sample.crop_path, dst_dir)
            sample.identity_id = dst_id
    moved_ex: list[list[int]] = []
    for table in EXEMPLARS.values():
        where: ColumnElement[bool] = col(table.identity_id).in_(src_ids)
        if not full:
            where = where & col(table.sighting_id).in_(sids)
        ids = list(session.execute(select(col(table.id)).where(where)).scalars())
        for chunk in _chunks(ids):
            session.execute(update(table).where(col(table.id).in_(chunk)).values(identity_id=dst_id))
        moved_ex.append(ids)
    if full:
        session.execute(
            update(PresenceSegment)
            .where(col(PresenceSegment.identity_id).in_(src_ids))
            .values(identity_id=dst_id)
        )
        session.execute(
            update(Event).where(col(Event.identity_id).in_(src_ids)).values(identity_id=dst_id)
        )
    else:
        _follow_events(session, sids, src_ids, dst_id)
    session.flush()
    return len(sids), moved_ex[0], moved_ex[1]


def _follow_events(
    session: Session, moved: Sequence[int], src_ids: Sequence[int], dst_id: int
) -> None:
    """Events linked to a source move with the split sightings unless a source still has one."""
    event_ids = {
        e
        for chunk in _chunks(list(moved))
        for e in session.execute(
            select(col(Sighting.event_id))
            .where(col(Sighting.id).in_(chunk), col(Sighting.event_id).is_not(None))
        ).scalars()
    }
    for event_id in event_ids:
        event = session.get(Event, event_id)
        if event is None or event.identity_id not in src_ids:
            continue
        still = session.execute(
            select(col(Sighting.id))
            .where(col(Sighting.event_id) == event_id)
            .where(col(Sighting.identity_id) == event.identity_id)
            .limit(1)
        ).first()
        if still is None:
            event.identity_id = dst_id


def _chunks(ids: list[int], size: int = CHUNK) -> Iterable[list[int]]:
    for start in range(0, len(ids), size):
        yield ids[start : start + size]


def recompute_identity(session: Session, identity: Identity, gap_s: float) -> None:
    """Counters, first/last seen, presence and representative sighting from the rows."""
    assert identity.id is not None
    count, first, last = session.execute(
        select(
            func.count(col(Sighting.id)),
            func.min(col(Sighting.ts)),
            func.max(func.coalesce(col(Sighting.end_ts), col(Sighting.ts))),
        ).where(col(Sighting.identity_id) == identity.id)
    ).one()
    identity.num_sightings = int(count)
    identity.first_seen = first if first is None or first.tzinfo else first.replace(tzinfo=UTC)
    identity.last_seen = last if last is None or last.tzinfo else last.replace(tzinfo=UTC)
    identity.total_seconds = rebuild_presence(session, identity.id, gap_s)
    rep_ok = identity.rep_sighting_id is not None and session.execute(
        select(col(Sighting.id)).where(
            col(Sighting.id) == identity.rep_sighting_id, col(Sighting.identity_id) == identity.id
        )
    ).first()
    if not rep_ok:
        identity.rep_sighting_id = session.execute(
            select(col(Sighting.id))
            .where(col(Sighting.identity_id) == identity.id, col(Sighting.thumb_path).is_not(None))
            .order_by(col(Sighting.ts).desc())
            .limit(1)
        ).scalar_one_or_none()
    session.add(identity)


def rebuild_presence(session: Session, identity_id: int, gap_s: float) -> float:
    """Regenerate an identity's segments from its sightings; returns total seconds."""
    session.execute(delete(PresenceSegment).where(col(PresenceSegment.identity_id) == identity_id))
    rows = session.execute(
        select(col(Sighting.camera_id), col(Sighting.ts), col(Sighting.end_ts))
        .where(col(Sighting.identity_id) == identity_id)
        .order_by(col(Sighting.camera_id), col(Sighting.ts))
    ).all()
    spans = presence.fold(
        ((camera_id, to_epoch(ts), to_epoch(end_ts) if end_ts is not None else to_epoch(ts))
         for camera_id, ts, end_ts in rows),
        gap_s,
    )
    for span in spans:
        session.add(PresenceSegment(identity_id=identity_id, camera_id=span.camera_id,
                                    start=to_dt(span.start), end=to_dt(span.end),
                                    seconds=span.seconds))
    return sum(span.seconds for span in spans)
