"""Recursive deletes shared by the camera, event and identity routes: rows and files together.

Files go first, then rows, so a crash in between leaves rows pointing at missing files (which
read as 404) rather than files nobody can find.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from sqlalchemy import delete, func, select, update
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
from iris.media import camera_dirs, remove_file, remove_tree

CHUNK = 200


def delete_events(session: Session, root: Path, event_ids: Iterable[int]) -> int:
    """Delete events with their clip and thumbnail files; sightings keep living (SET NULL)."""
    ids = list(dict.fromkeys(event_ids))
    deleted = 0
    for start in range(0, len(ids), CHUNK):
        chunk = ids[start : start + CHUNK]
        rows = session.execute(select(Event).where(col(Event.id).in_(chunk))).scalars().all()
        for event in rows:
            remove_file(root, event.clip_path)
            remove_file(root, event.thumb_path)
        session.execute(delete(Event).where(col(Event.id).in_([e.id for e in rows])))
        deleted += len(rows)
    return deleted


def delete_identities(session: Session, root: Path, identity_ids: Iterable[int]) -> int:
    """Delete identities: crops on disk, face samples, and events whose subjects all go.

    An event's subjects are its denormalised `Event.identity_id` and every identity with a
    sighting of it. An event whose subjects are all among ``identity_ids`` is deleted with its
    clip and thumbnail; one shared with a surviving identity is kept and only loses its link to
    the deleted ones. Sightings, exemplars and presence segments go by FK cascade.
    """
    ids = list(dict.fromkeys(identity_ids))
    doomed = set(ids)
    for start in range(0, len(ids), CHUNK):
        chunk = ids[start : start + CHUNK]
        for sample in session.execute(
            select(FaceSample).where(col(FaceSample.identity_id).in_(chunk))
        ).scalars():
            remove_file(root, sample.crop_path)
        session.execute(delete(FaceSample).where(col(FaceSample.identity_id).in_(chunk)))
        linked = set(
            session.execute(
                select(col(Event.id)).where(col(Event.identity_id).in_(chunk))
            ).scalars()
        ) | set(
            session.execute(
                select(col(Sighting.event_id))
                .where(col(Sighting.identity_id).in_(chunk), col(Sighting.event_id).is_not(None))
            ).scalars()
        )
        solo, shared = _split_by_survivors(session, sorted(linked), doomed)
        delete_events(session, root, solo)
        for part in range(0, len(shared), CHUNK):
            session.execute(
                update(Event)
                .where(col(Event.id).in_(shared[part : part + CHUNK]))
                .where(col(Event.identity_id).in_(chunk))
                .values(identity_id=None)
            )
        session.execute(delete(Identity).where(col(Identity.id).in_(chunk)))
        for identity_id in chunk:
            remove_tree(root / "identities" / str(identity_id))
    return len(ids)


def _split_by_survivors(
    session: Session, event_ids: list[int], doomed: set[int]
) -> tuple[list[int], list[int]]:
    """Partition events into those whose subjects all die and those another identity shares."""
    survivors: set[int] = set()
    for start in range(0, len(event_ids), CHUNK):
        part = event_ids[start : start + CHUNK]
        for event_id, identity_id in session.execute(
            select(col(Sighting.event_id), col(Sighting.identity_id))
            .where(col(Sighting.event_id).in_(part))
        ).all():
            if identity_id not in doomed:
                survivors.add(event_id)
        for event_id, identity_id in session.execute(
            select(col(Event.id), col(Event.identity_id)).where(
                col(Event.id).in_(part), col(Event.identity_id).is_not(None)
            )
        ).all():
            if identity_id not in doomed:
                survivors.add(event_id)
    return [e for e in event_ids if e not in survivors], [e for e in event_ids if e in survivors]


def delete_camera(session: Session, root: Path, camera: Camera) -> None:
    """Recursive camera delete as the contract says (worker stop is the caller's job)."""
    camera_id = camera.id
    assert camera_id is not None
    for folder in camera_dirs(root, camera_id):
        remove_tree(folder)
    touched = set(
        session.execute(
            select(col(Sighting.identity_id)).where(col(Sighting.camera_id) == camera_id)
        ).scalars()
    )
    for sample in session.execute(
        select(FaceSample).where(col(FaceSample.camera_id) == camera_id)
    ).scalars():
        remove_file(root, sample.crop_path)
    for table in (FaceSample, PresenceSegment, FaceExemplar, AppearanceExemplar):
        session.execute(delete(table).where(col(table.camera_id) == camera_id))
    session.execute(delete(Sighting).where(col(Sighting.camera_id) == camera_id))
    session.execute(delete(Event).where(col(Event.camera_id) == camera_id))
    session.delete(camera)
    session.flush()
    if touched:
        delete_orphan_identities(session, root, touched)


def delete_orphan_identities(session: Session, root: Path, candidates: Iterable[int]) -> int:
    """Drop identities among `candidates` that have no sightings left."""
    ids = list(candidates)
    if not ids:
        return 0
    alive = set(
        session.execute(
            select(col(Sighting.identity_id))
            .where(col(Sighting.identity_id).in_(ids))
            .group_by(col(Sighting.identity_id))
            .having(func.count() > 0)
        ).scalars()
    )
    orphans = [i for i in ids if i not in alive]
    return delete_identities(session, root, orphans)


def purge_camera_events(session: Session, root: Path, camera_id: int) -> int:
    """RTSP repoint: the camera's prior events and their files go (a different camera now)."""
    ids = session.execute(
        select(col(Event.id)).where(col(Event.camera_id) == camera_id)).scalars().all()
    return delete_events(session, root, ids)
