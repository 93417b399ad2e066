"""The data layer for identities: what /api/identities reads (list, detail, sightings, events,
faces, analytics) and the operator's rename.

Plain functions with keyword-only arguments over a `Session` (no Ray). Where the API promises a
URL only when a file exists (crops), the data root is checked here, so a row whose file was
lost reads as "no thumbnail" rather than a link that 404s. What the identity layer itself
reads and writes (assignment, merge, split) is `iris.identity.store`.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import ColumnElement, Select, distinct, func, or_, select
from sqlmodel import Session, col

from iris.db.tables import (
    AppearanceExemplar,
    Camera,
    Event,
    FaceExemplar,
    FaceSample,
    Identity,
    PresenceSegment,
    Sighting,
)
from iris.media import PathEscapesRoot, contained

MATCH_KINDS = ("person", "face", "appearance", "new")
"""What `Sighting.match_kind` holds: how the identity layer matched the sighting."""
THUMB_CANDIDATES = 8
"""Sighting crops tried per identity when its representative crop is missing on disk."""
HOURS = 24


def stored_file(root: Path, relative: str | None) -> Path | None:
    """The file a stored relative path names, when it lies under `root` and exists."""
    if not relative:
        return None
    try:
        path = contained(root, relative)
    except PathEscapesRoot:
        return None
    return path if path.is_file() else None


@dataclass(frozen=True)
class IdentityCard:
    """An identity with what its list item shows besides its own columns."""

    identity: Identity
    cameras: list[tuple[int, str]] = field(default_factory=list)
    has_thumb: bool = False
    face_sample_id: int | None = None


@dataclass(frozen=True)
class SightingRow:
    """A sighting with its camera's name and whether its crop is on disk."""

    sighting: Sighting
    camera_name: str | None
    has_thumb: bool


# ----------------------------------------------------------------------------- list
def identity_filters(
    *, named_only: bool = False, min_sightings: int = 0, object_class: str | None = None
) -> list[ColumnElement[bool]]:
    """WHERE clauses of the list filters."""
    clauses: list[ColumnElement[bool]] = []
    if named_only:
        clauses.append(col(Identity.is_named).is_(True))
    if min_sightings > 0:
        clauses.append(col(Identity.num_sightings) >= min_sightings)
    if object_class:
        clauses.append(col(Identity.object_class) == object_class)
    return clauses


def list_identities(
    session: Session,
    *,
    root: Path,
    named_only: bool = False,
    min_sightings: int = 0,
    object_class: str | None = None,
    limit: int = 100,
    offset: int = 0,
) -> tuple[int, list[IdentityCard]]:
    """`(total matching, one page)`, most recently seen first (never-seen last)."""
    where = identity_filters(
        named_only=named_only, min_sightings=min_sightings, object_class=object_class
    )
    total = session.execute(select(func.count()).select_from(Identity).where(*where)).scalar_one()
    rows = session.execute(
        select(Identity)
        .where(*where)
        .order_by(col(Identity.last_seen).is_(None), col(Identity.last_seen).desc(),
                  col(Identity.id).desc())
        .limit(limit)
        .offset(offset)
    ).scalars().all()
    return int(total), identity_cards(session, root=root, identities=rows)


def identity_cards(
    session: Session, *, root: Path, identities: Sequence[Identity]
) -> list[IdentityCard]:
    """Cameras, thumbnail presence and best face sample for each identity, in a few queries."""
    ids = [i.id for i in identities if i.id is not None]
    if not ids:
        return []
    cameras: dict[int, list[tuple[int, str]]] = {}
    for identity_id, camera_id, name in session.execute(
        select(col(Sighting.identity_id), col(Sighting.camera_id), col(Camera.name))
        .join(Camera, col(Camera.id) == col(Sighting.camera_id))
        .where(col(Sighting.identity_id).in_(ids))
        .distinct()
        .order_by(col(Sighting.camera_id))
    ).all():
        cameras.setdefault(identity_id, []).append((camera_id, name))
    thumbs = representative_thumbs(session, root=root, identities=identities)
    faces = best_face_samples(session, root=root, identity_ids=ids)
    return [
        IdentityCard(
            identity=i,
            cameras=cameras.get(i.id or 0, []),
            has_thumb=i.id in thumbs,
            face_sample_id=faces.get(i.id or 0),
        )
        for i in identities
    ]


def _ranked(stmt: Select[*tuple[Any, ...]], partition: Any, *order: Any
            ) -> Select[*tuple[Any, ...]]:
    """``stmt`` limited to the first THUMB_CANDIDATES rows of each ``partition``."""
    ranked = stmt.add_columns(
        func.row_number().over(partition_by=partition, order_by=order).label("nth")
    ).subquery()
    return select(ranked).where(ranked.c.nth <= THUMB_CANDIDATES).order_by(ranked.c.nth)


def representative_thumbs(
    session: Session, *, root: Path, identities: Iterable[Identity]
) -> dict[int, Path]:
    """Identity id -> its body crop on disk: the representative sighting's, else the latest."""
    wanted = {i.id: i.rep_sighting_id for i in identities if i.id is not None}
    found: dict[int, Path] = {}
    reps = [r for r in wanted.values() if r is not None]
    if reps:
        for sighting_id, identity_id, thumb in session.execute(
            select(col(Sighting.id), col(Sighting.identity_id), col(Sighting.thumb_path))
            .where(col(Sighting.id).in_(reps))
        ).all():
            path = stored_file(root, thumb)
            if path is not None and wanted.get(identity_id) == sighting_id:
                found[identity_id] = path
    missing = [i for i in wanted if i not in found]
    if missing:
        stmt = _ranked(
            select(col(Sighting.identity_id), col(Sighting.thumb_path)).where(
                col(Sighting.identity_id).in_(missing), col(Sighting.thumb_path).is_not(None)
            ),
            col(Sighting.identity_id),
            col(Sighting.ts).desc(),
            col(Sighting.id).desc(),
        )
        for row in session.execute(stmt).all():
            if row.identity_id not in found:
                path = stored_file(root, row.thumb_path)
                if path is not None:
                    found[row.identity_id] = path
    return found


def best_face_samples(
    session: Session, *, root: Path, identity_ids: Sequence[int]
) -> dict[int, int]:
    """Identity id -> its best-quality face sample whose crop is on disk."""
    stmt = _ranked(
        select(col(FaceSample.id), col(FaceSample.identity_id), col(FaceSample.crop_path)).where(
            col(FaceSample.identity_id).in_(list(identity_ids)),
            col(FaceSample.crop_path).is_not(None),
        ),
        col(FaceSample.identity_id),
        col(FaceSample.quality).desc(),
        col(FaceSample.id).desc(),
    )
    found: dict[int, int] = {}
    for row in session.execute(stmt).all():
        if row.identity_id not in found and stored_file(root, row.crop_path) is not None:
            found[row.identity_id] = row.id
    return found


# ----------------------------------------------------------------------------- detail
def exemplar_counts(session: Session, *, identity_id: int) -> tuple[int, int]:
    """`(face exemplars, appearance exemplars)` of one identity."""
    faces, looks = (
        int(
            session.execute(
                select(func.count()).select_from(table).where(col(table.identity_id) == identity_id)
            ).scalar_one()
        )
        for table in (FaceExemplar, AppearanceExemplar)
    )
    return faces, looks


def identity_sightings(
    session: Session, *, root: Path, identity_id: int, limit: int, offset: int = 0
) -> tuple[int, list[SightingRow]]:
    """`(total, one page)` of an identity's sightings, newest first."""
    total = session.execute(
        select(func.count()).select_from(Sighting).where(col(Sighting.identity_id) == identity_id)
    ).scalar_one()
    if limit <= 0:
        return int(total), []
    rows = session.execute(
        select(Sighting, col(Camera.name))
        .outerjoin(Camera, col(Camera.id) == col(Sighting.camera_id))
        .where(col(Sighting.identity_id) == identity_id)
        .order_by(col(Sighting.ts).desc(), col(Sighting.id).desc())
        .limit(limit)
        .offset(offset)
    ).all()
    return int(total), [
        SightingRow(s, name, stored_file(root, s.thumb_path) is not None) for s, name in rows
    ]


def identity_events(
    session: Session, *, identity_id: int, limit: int, offset: int = 0
) -> tuple[int, list[Event]]:
    """Recordings the identity appears in (its denormalised link or a sighting's), newest first."""
    by_sighting = select(col(Sighting.event_id)).where(
        col(Sighting.identity_id) == identity_id, col(Sighting.event_id).is_not(None)
    )
    where = or_(col(Event.identity_id) == identity_id, col(Event.id).in_(by_sighting))
    total = session.execute(select(func.count()).select_from(Event).where(where)).scalar_one()
    rows = session.execute(
        select(Event).where(where).order_by(col(Event.ts).desc(), col(Event.id).desc())
        .limit(limit).offset(offset)
    ).scalars().all()
    return int(total), list(rows)


def identity_faces(
    session: Session, *, identity_id: int, limit: int, offset: int = 0
) -> tuple[int, list[FaceSample]]:
    """`(total, one page)` of the face samples captured for an identity, newest first."""
    where = col(FaceSample.identity_id) == identity_id
    total = session.execute(select(func.count()).select_from(FaceSample).where(where)).scalar_one()
    rows = session.execute(
        select(FaceSample).where(where)
        .order_by(col(FaceSample.ts).desc(), col(FaceSample.id).desc())
        .limit(limit).offset(offset)
    ).scalars().all()
    return int(total), list(rows)


def update_identity(session: Session, *, identity: Identity, changes: Mapping[str, Any]
                    ) -> Identity:
    """Rename / annotate / confirm, and commit: only the keys in `changes` count.

    A name (not None) marks the identity named and None un-names it, unless `is_named` is
    given too (not None), which always wins.
    """
    if "name" in changes:
        identity.name = changes["name"]
        identity.is_named = changes["name"] is not None
    if "notes" in changes:
        identity.notes = changes["notes"]
    if changes.get("is_named") is not None:
        identity.is_named = bool(changes["is_named"])
    session.add(identity)
    session.commit()
    return identity


def class_identity_ids(session: Session, *, object_class: str | None = None) -> list[int]:
    """Every identity id (of one class, when given), oldest first."""
    stmt = select(col(Identity.id)).order_by(col(Identity.id))
    if object_class:
        stmt = stmt.where(col(Identity.object_class) == object_class)
    return [int(i) for i in session.execute(stmt).scalars()]


# ----------------------------------------------------------------------------- analytics
def day_start(moment: datetime) -> datetime:
    """Midnight UTC of `moment`'s day ("today" in the analytics is the UTC day)."""
    return moment.replace(hour=0, minute=0, second=0, microsecond=0)


def analytics(session: Session, *, object_class: str, now: datetime) -> dict[str, Any]:
    """Summary, per-camera, per-hour (last 24 h, oldest first) and per-match-kind numbers."""
    of_class = col(Identity.object_class) == object_class
    today, week = day_start(now), now - timedelta(days=7)

    def count(*where: ColumnElement[bool]) -> int:
        return int(
            session.execute(
                select(func.count()).select_from(Identity).where(of_class, *where)
            ).scalar_one()
        )

    sightings = (
        select(Sighting)
        .join(Identity, col(Identity.id) == col(Sighting.identity_id))
        .where(of_class)
        .subquery()
    )
    total = count()
    named = count(col(Identity.is_named).is_(True))
    summary = {
        "total": total,
        "named": named,
        "unnamed": total - named,
        "created_today": count(col(Identity.created_at) >= today),
        "seen_today": count(col(Identity.last_seen) >= today),
        "seen_7d": count(col(Identity.last_seen) >= week),
        "total_sightings": int(
            session.execute(select(func.count()).select_from(sightings)).scalar_one()
        ),
    }
    return {
        "as_of": now,
        "summary": summary,
        "by_camera": _by_camera(session, sightings, of_class),
        "by_hour": _by_hour(session, sightings, now),
        "by_match_kind": _by_match_kind(session, sightings),
    }


def _by_camera(
    session: Session, sightings: Any, of_class: ColumnElement[bool]
) -> list[dict[str, Any]]:
    per_camera = {
        camera_id: {"camera_id": camera_id, "name": None, "sightings": int(n),
                    "distinct_people": int(people), "avg_dwell_s": 0.0}
        for camera_id, n, people in session.execute(
            select(sightings.c.camera_id, func.count(),
                   func.count(distinct(sightings.c.identity_id)))
            .group_by(sightings.c.camera_id)
        ).all()
    }
    for camera_id, avg in session.execute(
        select(col(PresenceSegment.camera_id), func.avg(col(PresenceSegment.seconds)))
        .join(Identity, col(Identity.id) == col(PresenceSegment.identity_id))
        .where(of_class)
        .group_by(col(PresenceSegment.camera_id))
    ).all():
        row = per_camera.setdefault(camera_id, {"camera_id": camera_id, "name": None,
                                                "sightings": 0, "distinct_people": 0})
        row["avg_dwell_s"] = float(avg or 0.0)
    if per_camera:
        for camera_id, name in session.execute(
            select(col(Camera.id), col(Camera.name)).where(col(Camera.id).in_(list(per_camera)))
        ).all():
            per_camera[camera_id]["name"] = name
    return sorted(per_camera.values(), key=lambda r: (-r["sightings"], r["camera_id"]))


def _by_hour(session: Session, sightings: Any, now: datetime) -> list[dict[str, Any]]:
    current = now.replace(minute=0, second=0, microsecond=0)
    starts = [current - timedelta(hours=HOURS - 1 - k) for k in range(HOURS)]
    counts: Counter[datetime] = Counter()
    # Bucketed here rather than in SQL: hour truncation differs per backend, and a day of
    # sighting timestamps is small.
    for (ts,) in session.execute(
        select(sightings.c.ts).where(sightings.c.ts >= starts[0], sightings.c.ts <= now)
    ).all():
        counts[ts.replace(minute=0, second=0, microsecond=0)] += 1
    return [{"hour": start, "sightings": counts[start]} for start in starts]


def _by_match_kind(session: Session, sightings: Any) -> dict[str, int]:
    kinds = dict.fromkeys(MATCH_KINDS, 0)
    for kind, n in session.execute(
        select(sightings.c.match_kind, func.count()).group_by(sightings.c.match_kind)
    ).all():
        kinds[kind] = int(n)
    return kinds
