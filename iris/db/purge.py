"""Recursive deletes shared by the camera, event and identity routes: rows and files together.

Rows go in the caller's transaction; files go only once that transaction has committed. Each
purge records its paths on the session, and a listener on every session deletes them after a
commit or forgets them when the transaction ends without one, so a failed commit never leaves
rows pointing at deleted files and callers need do nothing but commit. A crash between the
commit and the deletes leaves files without rows, which cost disk but lose nothing.
"""

from __future__ import annotations

import logging
import shutil
from collections.abc import Iterable
from pathlib import Path

from sqlalchemy import delete, event, func, select, update
from sqlalchemy.orm import Session as OrmSession
from sqlalchemy.orm import SessionTransaction
from sqlmodel import Session, col

from iris.db.chunks import chunks
from iris.db.tables import (
    CAMERA_ROWS,
    Camera,
    Event,
    FaceSample,
    Identity,
    RecordingGap,
    RecordingSegment,
    Sighting,
)
from iris.layout import Layout
from iris.media import PathEscapesRoot, contained

log = logging.getLogger("iris.purge")

_DOOMED = "iris.purge.doomed"
"""`Session.info` key: paths to delete once the session's transaction commits."""


def delete_after_commit(session: Session, path: Path) -> None:
    """Delete the file or folder `path` when `session` commits; forget it if it does not."""
    session.info.setdefault(_DOOMED, []).append(path)


def _doom_stored(session: Session, root: Path, relative: str | None) -> None:
    if not relative:
        return
    try:
        delete_after_commit(session, contained(root, relative))
    except PathEscapesRoot:  # a stored path outside the root is never touched
        return


@event.listens_for(OrmSession, "after_commit")
def _delete_doomed(session: OrmSession) -> None:
    for path in session.info.pop(_DOOMED, []):
        try:
            if path.is_dir() and not path.is_symlink():
                shutil.rmtree(path)
            else:
                path.unlink(missing_ok=True)
        except FileNotFoundError:
            continue
        except OSError as exc:  # the rows are gone already: say what is left on disk
            log.warning("purge: could not delete %s: %s", path, exc)


@event.listens_for(OrmSession, "after_transaction_end")
def _forget_doomed(session: OrmSession, transaction: SessionTransaction) -> None:
    # A commit has consumed the list already; what is left belongs to a rollback.
    if transaction.parent is None:
        session.info.pop(_DOOMED, None)


def cached_clips(root: Path, event: Event) -> list[Path]:
    """Clips of the event cut on demand from the recording store (its cache files)."""
    folder = Layout(root).clip_cache(event.camera_id)
    return sorted(folder.glob(f"event-{event.id}.*")) if folder.is_dir() else []


def event_files(root: Path, event: Event) -> list[Path]:
    """Every file of an event: thumbnail, a clip of its own (pre-store events), cached clips.

    Its footage in the recording store is not among them: segments belong to the store, and
    retention deletes them once no event or continuous retention needs them.
    """
    files = []
    for stored in (event.clip_path, event.thumb_path):
        if stored:
            try:
                files.append(contained(root, stored))
            except PathEscapesRoot:  # a stored path outside the root is never touched
                continue
    return files + cached_clips(root, event)


def delete_events(session: Session, root: Path, event_ids: Iterable[int]) -> int:
    """Delete events with their files (`event_files`); sightings keep living (SET NULL)."""
    deleted = 0
    for chunk in chunks(event_ids):
        rows = session.execute(select(Event).where(col(Event.id).in_(chunk))).scalars().all()
        for row in rows:
            for path in event_files(root, row):
                delete_after_commit(session, path)
        session.execute(delete(Event).where(col(Event.id).in_([e.id for e in rows])))
        deleted += len(rows)
    return deleted


def delete_finished_events(session: Session, root: Path,
                           event_ids: Iterable[int]) -> tuple[int, int]:
    """Delete the given events except those still recording; returns (deleted, kept).

    An event in progress is left alone: its camera is cutting its clip and would write it for
    a row that no longer exists. It finishes normally and can be deleted then.
    """
    ids = list(dict.fromkeys(event_ids))
    recording: set[int] = set()
    for chunk in chunks(ids):
        recording.update(session.execute(select(col(Event.id)).where(
            col(Event.id).in_(chunk), col(Event.in_progress))).scalars())
    deleted = delete_events(session, root, [i for i in ids if i not in recording])
    return deleted, len(recording)


def delete_identities(session: Session, root: Path, identity_ids: Iterable[int]) -> int:
    """Delete identities: crops on disk, face samples, and events whose subjects all go.

    An event's subjects are its denormalised `Event.identity_id` and every identity with a
    sighting of it. An event whose subjects are all among ``identity_ids`` is deleted with its
    clip and thumbnail; one shared with a surviving identity is kept and only loses its link to
    the deleted ones. Sightings, exemplars and presence segments go by FK cascade.
    """
    ids = list(dict.fromkeys(identity_ids))
    doomed = set(ids)
    for chunk in chunks(ids):
        for sample in session.execute(
            select(FaceSample).where(col(FaceSample.identity_id).in_(chunk))
        ).scalars():
            _doom_stored(session, root, sample.crop_path)
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
        for part in chunks(shared):
            session.execute(
                update(Event)
                .where(col(Event.id).in_(part))
                .where(col(Event.identity_id).in_(chunk))
                .values(identity_id=None)
            )
        session.execute(delete(Identity).where(col(Identity.id).in_(chunk)))
        for identity_id in chunk:
            delete_after_commit(session, Layout(root).identity(identity_id))
    return len(ids)


def _split_by_survivors(
    session: Session, event_ids: list[int], doomed: set[int]
) -> tuple[list[int], list[int]]:
    """Partition events into those whose subjects all die and those another identity shares."""
    survivors: set[int] = set()
    for part in chunks(event_ids):
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
    for folder in Layout(root).camera_folders(camera_id):
        delete_after_commit(session, folder)
    touched = set(
        session.execute(
            select(col(Sighting.identity_id)).where(col(Sighting.camera_id) == camera_id)
        ).scalars()
    )
    for sample in session.execute(
        select(FaceSample).where(col(FaceSample.camera_id) == camera_id)
    ).scalars():
        _doom_stored(session, root, sample.crop_path)
    for table in CAMERA_ROWS:  # the recordings' files go with the folders above
        session.execute(delete(table).where(col(table.camera_id) == camera_id))
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
    """RTSP repoint: the camera's prior events, its recorded footage and gaps, and their
    files go (it is a different camera now). Returns the events deleted."""
    ids = session.execute(
        select(col(Event.id)).where(col(Event.camera_id) == camera_id)).scalars().all()
    for relative in session.execute(select(col(RecordingSegment.path)).where(
            col(RecordingSegment.camera_id) == camera_id)).scalars():
        _doom_stored(session, root, relative)
    for recorded in (RecordingSegment, RecordingGap):
        session.execute(delete(recorded).where(col(recorded.camera_id) == camera_id))
    return delete_events(session, root, ids)
