"""Recursive deletes shared by the camera, event and identity routes: rows and files together.

Files go first, then rows, so a crash in between leaves rows pointing at missing files (which
read as 404) rather than files nobody can find.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from sqlalchemy import delete, func, select
from sqlmodel import Session

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
        rows = session.execute(select(Event).where(Event.id.in_(chunk))).scalars().all()
        for event in rows:
            remove_file(root, event.clip_path)
            remove_file(root, event.thumb_path)
        session.execute(delete(Event).where(Event.id.in_([e.id for e in rows])))
        deleted += len(rows)
    return deleted


def delete_identities(session: Session, root: Path, identity_ids: Iterable[int]) -> int:
    """Delete identities: crops on disk, face samples, and events whose subjects all go."""
    ids = list(dict.fromkeys(identity_ids))
    for start in range(0, len(ids), CHUNK):
        chunk = ids[start : start + CHUNK]
        for sample in session.execute(
            select(FaceSample).where(FaceSample.identity_id.in_(chunk))
        ).scalars():
            remove_file(root, sample.crop_path)
        session.execute(delete(FaceSample).where(FaceSample.identity_id.in_(chunk)))
        solo_events = session.execute(
            select(Event.id).where(Event.identity_id.in_(chunk))
        ).scalars().all()
        delete_events(session, root, solo_events)
        session.execute(delete(Identity).where(Identity.id.in_(chunk)))
        for identity_id in chunk:
            remove_tree(root / "identities" / str(identity_id))
    return len(ids)


def delete_camera(session: Session, root: Path, camera: Camera) -> None:
    """Recursive camera delete as the contract says (worker stop is the caller's job)."""
    camera_id = camera.id
    assert camera_id is not None
    for folder in camera_dirs(root, camera_id):
        remove_tree(folder)
    touched = set(
        session.execute(
            select(Sighting.identity_id).where(Sighting.camera_id == camera_id)
        ).scalars()
    )
    for sample in session.execute(
        select(FaceSample).where(FaceSample.camera_id == camera_id)
    ).scalars():
        remove_file(root, sample.crop_path)
    for table in (FaceSample, PresenceSegment, FaceExemplar, AppearanceExemplar):
        session.execute(delete(table).where(table.camera_id == camera_id))
    session.execute(delete(Sighting).where(Sighting.camera_id == camera_id))
    session.execute(delete(Event).where(Event.camera_id == camera_id))
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
            select(Sighting.identity_id)
            .where(Sighting.identity_id.in_(ids))
            .group_by(Sighting.identity_id)
            .having(func.count() > 0)
        ).scalars()
    )
    orphans = [i for i in ids if i not in alive]
    return delete_identities(session, root, orphans)


def purge_camera_events(session: Session, root: Path, camera_id: int) -> int:
    """RTSP repoint: the camera's prior events and their files go (a different camera now)."""
    ids = session.execute(select(Event.id).where(Event.camera_id == camera_id)).scalars().all()
    return delete_events(session, root, ids)
