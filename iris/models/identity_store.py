"""Database and file side of the identity layer: rows, crops, counters, presence segments.

Plain functions over a SQLModel `Session`; `IdentityCore` calls them inside one transaction and
updates its galleries only after the commit. Files written or moved inside a transaction go
through a `FileJournal` (`iris.models.identity_files`), which undoes them when the transaction
fails, so DB and disk agree.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from datetime import UTC

import cv2
import numpy as np
from sqlalchemy import ColumnElement, Select, delete, func, or_, select, union_all, update
from sqlmodel import Session, col

from iris.db.tables import (
    AppearanceExemplar,
    Event,
    FaceExemplar,
    FaceSample,
    Identity,
    Person,
    PresenceSegment,
    Sighting,
)
from iris.db.types import vector_to_blob
from iris.models.appearance import vehicle_color
from iris.models.identity_files import FileJournal, identity_dir
from iris.models.identity_presence import rebuild_presence
from iris.models.identity_time import to_dt
from iris.models.identity_types import SightingInput

log = logging.getLogger(__name__)
ExemplarTable = type[FaceExemplar] | type[AppearanceExemplar]


# ----------------------------------------------------------------------------- sightings
def find_track_sighting(
    session: Session, camera_id: int, track_id: int, ts: float, gap_s: float
) -> Sighting | None:
    """The sighting of this camera track that ended at most ``gap_s`` before ``ts``."""
    since = to_dt(ts - gap_s)
    return session.execute(
        select(Sighting)
        .where(col(Sighting.camera_id) == camera_id, col(Sighting.track_id) == track_id)
        .where(func.coalesce(col(Sighting.end_ts), col(Sighting.ts)) >= since)
        .order_by(col(Sighting.ts).desc())
        .limit(1)
    ).scalar_one_or_none()


def concurrent_on_camera(
    session: Session, identity_id: int, camera_id: int, track_id: int, ts: float, end: float
) -> bool:
    """Whether the identity has another track on this camera overlapping ``[ts, end]``."""
    row = session.execute(
        select(col(Sighting.id))
        .where(col(Sighting.identity_id) == identity_id, col(Sighting.camera_id) == camera_id)
        .where(or_(col(Sighting.track_id).is_(None), col(Sighting.track_id) != track_id))
        .where(col(Sighting.ts) <= to_dt(end))
        .where(func.coalesce(col(Sighting.end_ts), col(Sighting.ts)) >= to_dt(ts))
        .limit(1)
    ).first()
    return row is not None


def best_exemplar_quality(session: Session, identity_id: int, sighting_id: int) -> float | None:
    """Highest exemplar quality recorded for one of an identity's sightings (its thumbnail's)."""
    parts: list[Select[tuple[float]]] = [
        select(col(table.quality).label("quality")).where(
            col(table.identity_id) == identity_id, col(table.sighting_id) == sighting_id
        )
        for table in (FaceExemplar, AppearanceExemplar)
    ]
    both = union_all(*parts).subquery()
    value = session.execute(select(func.max(both.c.quality))).scalar()
    return None if value is None else float(value)


# ----------------------------------------------------------------------------- exemplars
def keep_exemplar(
    session: Session,
    table: ExemplarTable,
    *,
    identity_id: int,
    camera_id: int,
    sighting_id: int,
    vector: np.ndarray,
    quality: float,
    cap: int,
    fresh: bool = False,
) -> tuple[int | None, list[int]]:
    """Store an exemplar if it earns a place: one per sighting, ``cap`` per identity, best kept.

    ``fresh`` says the sighting was just created (no exemplar of it can exist yet).

    Returns:
        ``(new exemplar id or None, ids of exemplars it displaced)``.
    """
    evicted: list[int] = []
    same = [] if fresh else session.execute(
        select(col(table.id), col(table.quality)).where(
            col(table.identity_id) == identity_id, col(table.sighting_id) == sighting_id
        )
    ).all()
    if same:
        if quality <= max(q for _, q in same):
            return None, []
        evicted = [i for i, _ in same]
        session.execute(delete(table).where(col(table.id).in_(evicted)))
    rows = session.execute(
        select(col(table.id), col(table.quality))
        .where(col(table.identity_id) == identity_id)
        .order_by(col(table.quality), col(table.id))
    ).all()
    if len(rows) >= cap:
        surplus = rows[: len(rows) - cap + 1]
        if quality <= surplus[-1][1]:
            return None, evicted
        drop = [i for i, _ in surplus]
        session.execute(delete(table).where(col(table.id).in_(drop)))
        evicted += drop
    row = table(
        identity_id=identity_id,
        camera_id=camera_id,
        sighting_id=sighting_id,
        vector=vector_to_blob(vector),
        quality=float(quality),
    )
    session.add(row)
    session.flush()
    assert row.id is not None
    return row.id, evicted


def prune_exemplars(
    session: Session, table: ExemplarTable, identity_id: int, cap: int
) -> list[int]:
    """Drop the lowest-quality exemplars beyond ``cap``; returns their ids."""
    rows = session.execute(
        select(col(table.id)).where(col(table.identity_id) == identity_id).order_by(
            col(table.quality).desc(), col(table.id).desc()
        )
    ).scalars().all()
    drop = list(rows[cap:])
    if drop:
        session.execute(delete(table).where(col(table.id).in_(drop)))
    return drop


def exemplar_vectors(
    session: Session, table: ExemplarTable, identity_ids: Sequence[int]
) -> list[tuple[int, int, int | None, bytes]]:
    """``(id, identity_id, sighting_id, vector blob)`` of the identities' exemplars."""
    return [
        (r[0], r[1], r[2], r[3])
        for r in session.execute(
            select(
                col(table.id), col(table.identity_id), col(table.sighting_id), col(table.vector)
            ).where(col(table.identity_id).in_(list(identity_ids)))
        ).all()
    ]


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


# ----------------------------------------------------------------------------- moving rows
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
    if full:
        sids = list(
            session.execute(select(col(Sighting.id)).where(col(Sighting.identity_id).in_(src_ids)))
            .scalars()
        )
    else:
        sids = list(
            session.execute(
                select(col(Sighting.id))
                .where(col(Sighting.identity_id).in_(src_ids))
                .where(col(Sighting.id).in_(list(sighting_ids or [])))
            ).scalars()
        )
    dst_dir = identity_dir(journal.root, dst_id)
    for chunk in _chunks(sids):
        picked = select(Sighting).where(col(Sighting.id).in_(chunk))
        for sighting in session.execute(picked).scalars():
            sighting.thumb_path = journal.move(sighting.thumb_path, dst_dir)
            sighting.identity_id = dst_id
        owned: ColumnElement[bool] = col(FaceSample.sighting_id).in_(chunk)
        if full:
            owned = or_(owned, col(FaceSample.identity_id).in_(src_ids))
        for sample in session.execute(select(FaceSample).where(owned)).scalars():
            sample.crop_path = journal.move(sample.crop_path, dst_dir)
            sample.identity_id = dst_id
    moved_ex: list[list[int]] = []
    for table in (FaceExemplar, AppearanceExemplar):
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


def _chunks(ids: list[int], size: int = 500) -> Iterable[list[int]]:
    for start in range(0, len(ids), size):
        yield ids[start : start + size]


# ----------------------------------------------------------------------------- sighting rows
def link_person(session: Session, identity: Identity, person_id: int) -> None:
    """Tie an identity to an enrolled person; an unnamed identity takes the person's name."""
    person = session.get(Person, person_id)
    if person is None:
        return
    identity.person_id = person_id
    if identity.name is None:
        identity.name, identity.is_named = person.name, True


def link_event(
    session: Session, row: Sighting, identity: Identity, event_id: int | None
) -> None:
    """Point the sighting at its recording; the event gets its (first) subject denormalised."""
    if event_id is None or row.event_id is not None:
        return
    event = session.get(Event, event_id)
    if event is None:
        log.warning("identity: sighting %s names missing event %s", row.id, event_id)
        return
    row.event_id = event_id
    if event.identity_id is None:
        event.identity_id = identity.id
    if identity.person_id is not None and event.person_id is None:
        event.person_id, event.person_name = identity.person_id, identity.name


def keep_face_sample(
    session: Session,
    journal: FileJournal,
    identity_id: int,
    row: Sighting,
    s: SightingInput,
    face: np.ndarray,
    look: np.ndarray | None,
    fresh: bool = False,
) -> None:
    """One face sample per sighting: the best-quality face crop of the track."""
    assert s.face_jpeg is not None
    quality = s.face_quality if s.face_quality is not None else s.quality
    sample = None if fresh else session.execute(
        select(FaceSample)
        .where(col(FaceSample.identity_id) == identity_id, col(FaceSample.sighting_id) == row.id)
        .limit(1)
    ).scalar_one_or_none()
    if sample is not None and sample.quality >= quality:
        return
    if sample is None:
        sample = FaceSample(camera_id=s.camera_id, ts=to_dt(s.ts), embedding=b"")
    sample.identity_id, sample.sighting_id = identity_id, row.id
    sample.embedding = vector_to_blob(face)
    sample.clothing = None if look is None else vector_to_blob(look)
    sample.quality = float(quality)
    session.add(sample)
    session.flush()
    sample.crop_path = journal.write(f"identities/{identity_id}/face-{sample.id}.jpg",
                                     s.face_jpeg)


def vehicle_attrs(identity: Identity, s: SightingInput) -> None:
    """Type from the class; colour from the Embedder or, failing that, from the crop."""
    identity.vehicle_type = s.label
    if identity.color is not None:
        return
    if s.color is not None:
        identity.color, identity.color_hex = s.color, s.color_hex
    elif s.crop_jpeg:
        crop = cv2.imdecode(np.frombuffer(s.crop_jpeg, np.uint8), cv2.IMREAD_COLOR)
        if crop is not None:
            identity.color, identity.color_hex = vehicle_color(crop)
