"""/api/face-groups: captured faces clustered on demand; enroll, label, clips, and deletes.

Clustering settings are query parameters and nothing is precomputed, so there is no state to
invalidate when samples arrive, get labelled or go.
"""

from __future__ import annotations

import shutil
from bisect import bisect_right
from collections import defaultdict
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Annotated, Any
from uuid import uuid4

import numpy as np
from fastapi import APIRouter, HTTPException, Query, Request, Response, status
from sqlalchemy import delete, or_, select, update
from sqlmodel import Session, col
from starlette.concurrency import run_in_threadpool

from iris.db.purge import CHUNK
from iris.db.tables import Event, FaceEmbedding, FaceSample, Person, Sighting
from iris.db.types import blob_to_vector
from iris.identity import MAX_SAMPLES, ClusterParams, FaceSamples, cluster_faces
from iris.media import PathEscapesRoot, contained, remove_file
from iris.serve.deps import RootDep, RuntimeDep, SessionDep
from iris.serve.files import serve_stored
from iris.serve.routes.people import reload_gallery
from iris.serve.schemas.events import EventListResponse, EventPublic
from iris.serve.schemas.face_groups import (
    ENROLL_MAX_FACES,
    EnrollGroup,
    EnrollGroupResult,
    FaceGroupList,
    GroupClips,
    LabelResult,
    LabelSamples,
    SampleBulkDelete,
    SampleClearAll,
    SampleDeleteResult,
)
from iris.serve.schemas.ids import IdPath

router = APIRouter()

CLIP_BEFORE = timedelta(seconds=90)
"""A capture up to this long before an event's start still counts as in its clip."""
CLIP_AFTER = timedelta(seconds=20)
"""... and up to this long after its end."""
CONFIRM_REQUIRED = "Refusing to delete all face samples: send {\"confirm\": true} to confirm."
Threshold = Annotated[float, Query(ge=0, le=1)]
Spans = list[tuple[datetime, datetime]]


def _samples(session: Session, ids: Iterable[int]) -> list[FaceSample]:
    unique = list(dict.fromkeys(ids))
    rows: list[FaceSample] = []
    for start in range(0, len(unique), CHUNK):
        rows.extend(session.execute(
            select(FaceSample).where(col(FaceSample.id).in_(unique[start : start + CHUNK]))
        ).scalars())
    return rows


def _stored_vector(blob: bytes | None) -> np.ndarray | None:
    """A stored float32 blob as a vector; ``None`` when absent or not a whole number of floats."""
    if not blob or len(blob) % 4:
        return None
    return blob_to_vector(blob)


def face_samples(rows: Sequence[FaceSample]) -> FaceSamples:
    """The rows as clustering input; rows without a usable 512-d face embedding are left out."""
    stored = [(row.id, row) for row in rows if row.id is not None]
    return FaceSamples.from_vectors(
        ids=[sample_id for sample_id, _ in stored],
        camera_ids=[row.camera_id for _, row in stored],
        ts=[row.ts for _, row in stored],
        quality=[float(row.quality) for _, row in stored],
        labels=[row.label for _, row in stored],
        faces=[_stored_vector(row.embedding) for _, row in stored],
        clothing=[_stored_vector(row.clothing) for _, row in stored],
    )


def _samples_or_404(session: Session, ids: Iterable[int]) -> list[FaceSample]:
    rows = _samples(session, ids)
    if not rows:
        raise HTTPException(status.HTTP_404_NOT_FOUND, "No face samples found.")
    return rows


def delete_samples(session: Session, root: Path, sample_ids: Iterable[int]) -> int:
    """Delete face samples and their crops (files first, as every purge)."""
    ids = list(dict.fromkeys(sample_ids))
    deleted = 0
    for start in range(0, len(ids), CHUNK):
        rows = session.execute(
            select(FaceSample).where(col(FaceSample.id).in_(ids[start : start + CHUNK]))
        ).scalars().all()
        for sample in rows:
            remove_file(root, sample.crop_path)
        session.execute(delete(FaceSample).where(col(FaceSample.id).in_([s.id for s in rows])))
        deleted += len(rows)
    return deleted


@router.get("", response_model=FaceGroupList)
def list_face_groups(
    session: SessionDep,
    face_threshold: Threshold = 0.5,
    clothing_weight: Threshold = 0.0,
    min_size: Annotated[int, Query(ge=1, le=MAX_SAMPLES)] = 1,
    max_members: Annotated[int, Query(ge=0, le=MAX_SAMPLES)] = 40,
    max_samples: Annotated[int, Query(ge=1, le=MAX_SAMPLES)] = MAX_SAMPLES,
) -> Any:
    """Cluster + list groups (largest first)."""
    params = ClusterParams(face_threshold=face_threshold, clothing_weight=clothing_weight,
                           min_size=min_size, max_members=max_members, max_samples=max_samples)
    rows = session.execute(
        select(FaceSample).order_by(col(FaceSample.ts).desc(), col(FaceSample.id).desc())
        .limit(max_samples)
    ).scalars().all()
    samples = face_samples(rows)
    return FaceGroupList.build(params, len(samples), cluster_faces(samples, params))


@router.get("/samples/{sample_id}/thumbnail")
def sample_thumbnail(
    sample_id: IdPath, request: Request, session: SessionDep, root: RootDep
) -> Response:
    """Face-crop JPEG."""
    sample = session.get(FaceSample, sample_id)
    if sample is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, "Face sample not found.")
    if not sample.crop_path:
        raise HTTPException(status.HTTP_404_NOT_FOUND, "This face sample has no crop.")
    return serve_stored(request.headers, root, sample.crop_path, "The sample's crop",
                        "image/jpeg")


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
    relative = f"faces/{person_id}/{uuid4().hex}.jpg"
    target = contained(root, relative)
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(source, target)
    return relative


def _enroll(session: Session, root: Path, body: EnrollGroup) -> EnrollGroupResult:
    rows = _samples_or_404(session, body.sample_ids)
    samples = face_samples(rows)
    usable = [sample_id for _, sample_id in sorted(
        zip((-q for q in samples.quality.tolist()), samples.ids.tolist(), strict=True))]
    if not usable:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT,
                            "None of these face samples has a usable face embedding.")
    person = Person(name=body.name)
    session.add(person)
    session.flush()
    assert person.id is not None
    by_id = {row.id: row for row in rows}
    copied: list[str] = []
    try:
        for sample_id in usable[:ENROLL_MAX_FACES]:
            row = by_id[sample_id]
            image_path = _copy_crop(root, row.crop_path, person.id)
            if image_path:
                copied.append(image_path)
            # Samples and enrolled faces share the 512-d little-endian f32 layout: the stored
            # bytes copy over as they are.
            session.add(FaceEmbedding(person_id=person.id, vector=row.embedding,
                                      image_path=image_path, source="face-group"))
        for row in rows:
            row.label = body.name
            session.add(row)
        session.commit()
    except BaseException:
        session.rollback()
        for image_path in copied:
            remove_file(root, image_path)
        raise
    return EnrollGroupResult(person_id=person.id, name=person.name,
                             enrolled_faces=min(len(usable), ENROLL_MAX_FACES))


@router.post("/enroll", response_model=EnrollGroupResult)
async def enroll_group(
    body: EnrollGroup, session: SessionDep, root: RootDep, runtime: RuntimeDep
) -> Any:
    """Turn a group into a known Person."""
    result = await run_in_threadpool(_enroll, session, root, body)
    await reload_gallery(runtime)
    return result


@router.post("/label", response_model=LabelResult)
def label_samples(body: LabelSamples, session: SessionDep) -> Any:
    """Set a label on the given samples."""
    label = (body.label or "").strip() or None
    ids = list(dict.fromkeys(body.sample_ids))
    updated = 0
    for start in range(0, len(ids), CHUNK):
        result = session.execute(
            update(FaceSample).where(col(FaceSample.id).in_(ids[start : start + CHUNK]))
            .values(label=label)
        )
        updated += result.rowcount  # type: ignore[attr-defined]
    session.commit()
    return LabelResult(updated=updated, label=label)


def _event_end(event: Event, now: datetime) -> datetime:
    if event.end_ts is not None:
        return event.end_ts
    if event.in_progress:
        return now
    return event.ts + timedelta(seconds=event.duration or 0.0)


def _presence(session: Session, rows: list[FaceSample]) -> dict[int, Spans]:
    """Per camera, when the group was seen: its captures and its identities' sightings."""
    seen: dict[int, Spans] = defaultdict(list)
    for row in rows:
        seen[row.camera_id].append((row.ts, row.ts))
    identity_ids = sorted({r.identity_id for r in rows if r.identity_id is not None})
    for start in range(0, len(identity_ids), CHUNK):
        for camera_id, ts, end_ts in session.execute(
            select(col(Sighting.camera_id), col(Sighting.ts), col(Sighting.end_ts))
            .where(col(Sighting.identity_id).in_(identity_ids[start : start + CHUNK]))
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


@router.post("/clips", response_model=EventListResponse)
def group_clips(body: GroupClips, session: SessionDep) -> Any:
    """Recorded clips a face group appears in."""
    rows = _samples(session, body.sample_ids)
    now = datetime.now(UTC)
    events: dict[int, Event] = {}
    for camera_id, spans in _presence(session, rows).items():
        for event in _overlapping_events(session, camera_id, spans, now):
            assert event.id is not None
            events[event.id] = event
    items = sorted(events.values(), key=lambda e: (e.ts, e.id or 0), reverse=True)
    return EventListResponse(total=len(items), items=[EventPublic.from_event(e) for e in items])


@router.post("/samples/bulk-delete", response_model=SampleDeleteResult)
def bulk_delete_samples(body: SampleBulkDelete, session: SessionDep, root: RootDep) -> Any:
    """Drop the given captured faces (+ crops)."""
    deleted = delete_samples(session, root, body.ids)
    session.commit()
    return SampleDeleteResult(deleted=deleted)


@router.post("/samples/clear-all", response_model=SampleDeleteResult)
def clear_all_samples(body: SampleClearAll, session: SessionDep, root: RootDep) -> Any:
    """Delete ALL face samples (optionally one label) — requires confirm."""
    if not body.confirm:
        raise HTTPException(status.HTTP_400_BAD_REQUEST, CONFIRM_REQUIRED)
    query = select(col(FaceSample.id))
    if body.label is not None:
        query = query.where(col(FaceSample.label) == body.label)
    ids = list(session.execute(query).scalars())
    deleted = 0
    for start in range(0, len(ids), CHUNK):  # one transaction per chunk
        deleted += delete_samples(session, root, ids[start : start + CHUNK])
        session.commit()
    return SampleDeleteResult(deleted=deleted)


@router.delete("/samples/{sample_id}", status_code=status.HTTP_204_NO_CONTENT)
def delete_sample(sample_id: IdPath, session: SessionDep, root: RootDep) -> Response:
    """Drop one captured face (+ crop)."""
    if session.get(FaceSample, sample_id) is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, "Face sample not found.")
    delete_samples(session, root, [sample_id])
    session.commit()
    return Response(status_code=status.HTTP_204_NO_CONTENT)
