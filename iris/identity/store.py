"""The identity layer's SQL: identities, sightings, exemplars, face samples, presence.

Plain functions over a SQLModel `Session`; the caller runs them inside one transaction and
updates its galleries only after the commit. Files written inside a transaction go through a
`FileJournal` (`iris.identity.files`), which undoes them when the transaction fails, so DB and
disk agree. Moving rows between identities (merge, split) is `iris.identity.moves`; the API's
reads of identities are `iris.db.identities`.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence

import numpy as np
from sqlalchemy import Select, delete, func, or_, select, union_all
from sqlmodel import Session, col

from iris import types
from iris.db.tables import (
    AppearanceExemplar,
    Event,
    FaceEmbedding,
    FaceExemplar,
    FaceSample,
    Identity,
    Person,
    PresenceSegment,
    Sighting,
)
from iris.db.types import vector_to_blob
from iris.identity.epoch import to_dt, to_epoch
from iris.identity.files import FileJournal
from iris.identity.types import ExemplarKind
from iris.layout import identity_file

log = logging.getLogger(__name__)
ExemplarTable = type[FaceExemplar] | type[AppearanceExemplar]
EXEMPLARS: dict[ExemplarKind, ExemplarTable] = {"face": FaceExemplar, "look": AppearanceExemplar}


# ----------------------------------------------------------------------------- identities
def get_identity(session: Session, identity_id: int) -> Identity | None:
    """One identity row."""
    return session.get(Identity, identity_id)


def identities(session: Session, identity_ids: Sequence[int]) -> dict[int, Identity]:
    """The rows of those identities that exist, by id."""
    rows = session.execute(select(Identity).where(col(Identity.id).in_(list(identity_ids))))
    return {r.id: r for r in rows.scalars() if r.id is not None}


def existing_identity_ids(session: Session, identity_ids: Sequence[int]) -> list[int]:
    """Those of ``identity_ids`` that exist."""
    return list(session.execute(
        select(col(Identity.id)).where(col(Identity.id).in_(list(identity_ids)))
    ).scalars())


def add_identity(session: Session, identity: Identity) -> int:
    """Insert a new identity; returns its id."""
    session.add(identity)
    session.flush()
    assert identity.id is not None
    return identity.id


def latest_identity_of_person(session: Session, person_id: int) -> Identity | None:
    """The most recently seen identity linked to an enrolled person."""
    return session.execute(
        select(Identity)
        .where(col(Identity.person_id) == person_id)
        .order_by(col(Identity.last_seen).desc())
        .limit(1)
    ).scalar_one_or_none()


def unnamed_unlinked(session: Session) -> dict[int, str]:
    """Identity id -> object class of every identity neither named nor linked to a person."""
    return {
        i: c
        for i, c in session.execute(
            select(col(Identity.id), col(Identity.object_class)).where(
                col(Identity.is_named).is_(False), col(Identity.person_id).is_(None)
            )
        ).all()
    }


def delete_identity_rows(session: Session, identity_ids: Sequence[int]) -> None:
    """Delete identity rows whose dependants have been moved away (merge)."""
    session.execute(delete(Identity).where(col(Identity.id).in_(list(identity_ids))))


def link_person(session: Session, identity: Identity, person_id: int) -> None:
    """Tie an identity to an enrolled person; an unnamed identity takes the person's name."""
    person = session.get(Person, person_id)
    if person is None:
        return
    identity.person_id = person_id
    if identity.name is None:
        identity.name, identity.is_named = person.name, True


# ----------------------------------------------------------------------------- sightings
def get_sighting(session: Session, sighting_id: int) -> Sighting | None:
    """One sighting row."""
    return session.get(Sighting, sighting_id)


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


def sighting_ids(session: Session, identity_id: int) -> list[int]:
    """Every sighting id of one identity."""
    return list(
        session.execute(
            select(col(Sighting.id)).where(col(Sighting.identity_id) == identity_id)
        ).scalars()
    )


def save_sighting(session: Session, row: Sighting) -> int:
    """Insert or update a sighting row now (its id is needed); returns the id."""
    session.add(row)
    session.flush()
    assert row.id is not None
    return row.id


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


# ----------------------------------------------------------------------------- exemplars
def gallery_rows(session: Session, kind: ExemplarKind | None) -> Iterable[tuple[int, int, bytes]]:
    """``(row id, owner id, vector blob)`` of every identity exemplar of ``kind``, or of every
    enrolled face (owner: the person) for ``None``; streamed while the session is open."""
    table, owner = (
        (FaceEmbedding, col(FaceEmbedding.person_id)) if kind is None
        else (EXEMPLARS[kind], col(EXEMPLARS[kind].identity_id))
    )
    return session.execute(select(col(table.id), owner, col(table.vector))).yield_per(5000).tuples()


def best_exemplar_quality(session: Session, identity_id: int, sighting_id: int) -> float | None:
    """Highest exemplar quality recorded for one of an identity's sightings (its thumbnail's)."""
    parts: list[Select[tuple[float]]] = [
        select(col(table.quality).label("quality")).where(
            col(table.identity_id) == identity_id, col(table.sighting_id) == sighting_id
        )
        for table in EXEMPLARS.values()
    ]
    both = union_all(*parts).subquery()
    value = session.execute(select(func.max(both.c.quality))).scalar()
    return None if value is None else float(value)


def keep_exemplar(
    session: Session,
    kind: ExemplarKind,
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
    table = EXEMPLARS[kind]
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


def prune_exemplars(session: Session, kind: ExemplarKind, identity_id: int, cap: int
                    ) -> list[int]:
    """Drop the lowest-quality exemplars beyond ``cap``; returns their ids."""
    table = EXEMPLARS[kind]
    rows = session.execute(
        select(col(table.id)).where(col(table.identity_id) == identity_id).order_by(
            col(table.quality).desc(), col(table.id).desc()
        )
    ).scalars().all()
    drop = list(rows[cap:])
    if drop:
        session.execute(delete(table).where(col(table.id).in_(drop)))
    return drop


def exemplar_ids(session: Session, kind: ExemplarKind, identity_ids: Sequence[int]) -> list[int]:
    """Ids of the identities' exemplars of one kind."""
    table = EXEMPLARS[kind]
    return list(session.execute(
        select(col(table.id)).where(col(table.identity_id).in_(list(identity_ids)))
    ).scalars())


def exemplar_vectors(
    session: Session, kind: ExemplarKind, identity_ids: Sequence[int]
) -> list[tuple[int, int, int | None, bytes]]:
    """``(id, identity_id, sighting_id, vector blob)`` of the identities' exemplars."""
    table = EXEMPLARS[kind]
    return [
        (r[0], r[1], r[2], r[3])
        for r in session.execute(
            select(
                col(table.id), col(table.identity_id), col(table.sighting_id), col(table.vector)
            ).where(col(table.identity_id).in_(list(identity_ids)))
        ).all()
    ]


# ----------------------------------------------------------------------------- face samples
def keep_face_sample(
    session: Session,
    journal: FileJournal,
    identity_id: int,
    row: Sighting,
    s: types.Observation,
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
    sample.crop_path = journal.write(identity_file(identity_id, f"face-{sample.id}.jpg"),
                                     s.face_jpeg)


def face_sample_vectors(
    session: Session, identity_id: int, kind: ExemplarKind
) -> list[tuple[int | None, bytes | None]]:
    """``(sighting id, face or clothing blob)`` of every face sample of one identity."""
    column = col(FaceSample.embedding) if kind == "face" else col(FaceSample.clothing)
    return [
        (sid, blob)
        for sid, blob in session.execute(
            select(col(FaceSample.sighting_id), column)
            .where(col(FaceSample.identity_id) == identity_id)
        ).all()
    ]


# ----------------------------------------------------------------------------- presence
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
        session.add(PresenceSegment(identity_id=identity_id, camera_id=camera_id,
                                    start=to_dt(lo), end=to_dt(hi), seconds=hi - lo))
    return (hi - lo) - before
