"""The data layer for captured face samples: what face groups read, label, enroll and delete.

Plain functions with keyword-only arguments over a `Session` (no Ray). Clustering itself is
`iris.identity.cluster_faces`, over arrays the caller builds from these rows.
"""

from __future__ import annotations

import shutil
from bisect import bisect_right
from collections import defaultdict
from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta
from pathlib import Path

from sqlalchemy import delete, or_, select, update
from sqlmodel import Session, col

from iris.db.chunks import chunks
from iris.db.people import new_photo_path
from iris.db.tables import Event, FaceEmbedding, FaceSample, Person, Sighting
from iris.media import PathEscapesRoot, contained, remove_file

CLIP_BEFORE = timedelta(seconds=90)
"""A capture up to this long before an event's start still counts as in its clip."""
CLIP_AFTER = timedelta(seconds=20)
"""... and up to this long after its end."""
Spans = list[tuple[datetime, datetime]]


def samples_by_ids(session: Session, *, sample_ids: Iterable[int]) -> list[FaceSample]:
    """The samples among `sample_ids` that exist (each once)."""
    rows: list[FaceSample] = []
    for chunk in chunks(sample_ids):
        rows.extend(session.execute(
            select(FaceSample).where(col(FaceSample.id).in_(chunk))).scalars())
    return rows


def recent_samples(session: Session, *, limit: int) -> list[FaceSample]:
    """The newest `limit` samples, newest first."""
    return list(session.execute(
        select(FaceSample).order_by(col(FaceSample.ts).desc(), col(FaceSample.id).desc())
        .limit(limit)
    ).scalars())


def delete_samples(session: Session, *, root: Path, sample_ids: Iterable[int]) -> int:
    """Delete face samples and their crops (not committed); returns how many existed."""
    deleted = 0
    for chunk in chunks(sample_ids):
        rows = session.execute(
            select(FaceSample).where(col(FaceSample.id).in_(chunk))).scalars().all()
        for sample in rows:
            remove_file(root, sample.crop_path)
        session.execute(delete(FaceSample).where(col(FaceSample.id).in_([s.id for s in rows])))
        deleted += len(rows)
    return deleted


def clear_samples(session: Session, *, root: Path, label: str | None = None) -> int:
    """Delete every sample (of one label, when given), committing one chunk at a time."""
    query = select(col(FaceSample.id))
    if label is not None:
        query = query.where(col(FaceSample.label) == label)
    deleted = 0
    for chunk in chunks(session.execute(query).scalars()):
        deleted += delete_samples(session, root=root, sample_ids=chunk)
        session.commit()
    return deleted


def label_samples(session: Session, *, sample_ids: Iterable[int], label: str | None) -> int:
    """Set (or clear, with None) the label of the given samples and commit; rows updated."""
    updated = 0
    for chunk in chunks(sample_ids):
        result = session.execute(
            update(FaceSample).where(col(FaceSample.id).in_(chunk)).values(label=label))
        updated += result.rowcount  # type: ignore[attr-defined]
    session.commit()
    return updated


def _copy_crop(root: Path, crop_path: str | None, person_id: int) -> str | None:
    """Copy a sample's crop into the person's photo folder; its relative path, or None."""
    if not crop_path:
        return None
    try:
        source = contained(root, crop_path)
    except PathEscapesRoot:
        return None
    if not source.is_file():
        return None
    relative = new_photo_path(person_id)
    target = contained(root, relative)
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(source, target)
    return relative


def enroll_samples(session: Session, *, root: Path, name: str, rows: Sequence[FaceSample],
                   best_ids: Sequence[int]) -> Person:
    """Create a person from a group: faces of `best_ids`, the group's samples labelled `name`.

    Samples and enrolled faces share the 512-d little-endian f32 layout, so the stored bytes
    copy over as they are, with each sample's crop as the face's photo. Commits; on failure
    rolls back and removes the copied photos.
    """
    person = Person(name=name)
    session.add(person)
    session.flush()
    assert person.id is not None
    by_id = {row.id: row for row in rows}
    copied: list[str] = []
    try:
        for sample_id in best_ids:
            row = by_id[sample_id]
            image_path = _copy_crop(root, row.crop_path, person.id)
            if image_path:
                copied.append(image_path)
            session.add(FaceEmbedding(person_id=person.id, vector=row.embedding,
                                      image_path=image_path, source="face-group"))
        for row in rows:
            row.label = name
            session.add(row)
        session.commit()
    except BaseException:
        session.rollback()
        for image_path in copied:
            remove_file(root, image_path)
        raise
    return person


# ----------------------------------------------------------------------------- clips
def _event_end(event: Event, now: datetime) -> datetime:
    if event.end_ts is not None:
        return event.end_ts
    if event.in_progress:
        return now
    return event.ts + timedelta(seconds=event.duration or 0.0)


def _presence(session: Session, rows: Sequence[FaceSample]) -> dict[int, Spans]:
    """Per camera, when the group was seen: its captures and its identities' sightings."""
    seen: dict[int, Spans] = defaultdict(list)
    for row in rows:
        seen[row.camera_id].append((row.ts, row.ts))
    identity_ids = sorted({r.identity_id for r in rows if r.identity_id is not None})
    for chunk in chunks(identity_ids):
        for camera_id, ts, end_ts in session.execute(
            select(col(Sighting.camera_id), col(Sighting.ts), col(Sighting.end_ts))
            .where(col(Sighting.identity_id).in_(chunk))
        ).tuples():
            seen[camera_id].append((ts, end_ts or ts))
    return seen


def _overlapping_events(
    session: Session, camera_id: int, spans: Spans, now: datetime
) -> list[Event]:
    """Clip events on the camera whose [ts - 90 s, end + 20 s] window meets one of the spans."""
    spans.sort()
    starts = [s for s, _ in spans]
    latest_end: list[datetime] = []  # running max of span ends, in start order
    for _, end in spans:
        latest_end.append(max(end, latest_end[-1]) if latest_end else end)
    candidates = session.execute(
        select(Event).where(
            col(Event.camera_id) == camera_id,
            col(Event.clip_path).is_not(None),
            col(Event.ts) <= latest_end[-1] + CLIP_BEFORE,
            or_(col(Event.end_ts).is_(None), col(Event.end_ts) >= starts[0] - CLIP_AFTER),
        )
    ).scalars()
    hits = []
    for event in candidates:
        low, high = event.ts - CLIP_BEFORE, _event_end(event, now) + CLIP_AFTER
        # Of the spans that start by `high`, one meets the window if any ends at `low` or later.
        last = bisect_right(starts, high) - 1
        if last >= 0 and latest_end[last] >= low:
            hits.append(event)
    return hits


def group_clips(session: Session, *, rows: Sequence[FaceSample], now: datetime) -> list[Event]:
    """Clip events the samples' group appears in, each once, newest first.

    Sightings' `event_id` is not reliably set, so clips are found by camera and time: an event
    whose window meets one of the group's captures or its identities' sightings.
    """
    events: dict[int, Event] = {}
    for camera_id, spans in _presence(session, rows).items():
        for event in _overlapping_events(session, camera_id, spans, now):
            assert event.id is not None
            events[event.id] = event
    return sorted(events.values(), key=lambda e: (e.ts, e.id or 0), reverse=True)
