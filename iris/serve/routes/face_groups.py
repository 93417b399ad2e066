"""/api/face-groups: captured faces clustered on demand; enroll, label, clips, and deletes.

Clustering settings are query parameters and nothing is precomputed, so there is no state to
invalidate when samples arrive, get labelled or go. The rows are `iris.db.face_samples`'s.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any

import numpy as np
from fastapi import APIRouter, HTTPException, Query, Request, Response, status
from sqlmodel import Session
from starlette.concurrency import run_in_threadpool

from iris.db import face_samples as db
from iris.db.tables import FaceSample
from iris.db.types import blob_to_vector
from iris.identity import MAX_SAMPLES, ClusterParams, FaceSamples, cluster_faces
from iris.serve.deps import RootDep, RuntimeDep, SessionDep
from iris.serve.lookup import get_or_404, require_confirmed, stored_jpeg
from iris.serve.routes.people import reload_gallery
from iris.serve.schemas.common import BulkDelete, DeleteResult
from iris.serve.schemas.events import EventListResponse, EventPublic
from iris.serve.schemas.face_groups import (
    ENROLL_MAX_FACES,
    EnrollGroup,
    EnrollGroupResult,
    FaceGroupList,
    GroupClips,
    LabelResult,
    LabelSamples,
    SampleClearAll,
)
from iris.serve.schemas.ids import IdPath

router = APIRouter()

Threshold = Annotated[float, Query(ge=0, le=1)]


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
    samples = face_samples(db.recent_samples(session, limit=max_samples))
    return FaceGroupList.build(params, len(samples), cluster_faces(samples, params))


@router.get("/samples/{sample_id}/thumbnail")
def sample_thumbnail(
    sample_id: IdPath, request: Request, session: SessionDep, root: RootDep
) -> Response:
    """Face-crop JPEG."""
    sample = get_or_404(session, FaceSample, sample_id)
    return stored_jpeg(request, root, sample.crop_path, subject="The sample's crop",
                       missing="This face sample has no crop.")


def _enroll(session: Session, root: Path, body: EnrollGroup) -> EnrollGroupResult:
    rows = db.samples_by_ids(session, sample_ids=body.sample_ids)
    if not rows:
        raise HTTPException(status.HTTP_404_NOT_FOUND, "No face samples found.")
    samples = face_samples(rows)
    best = [sample_id for _, sample_id in sorted(
        zip((-q for q in samples.quality.tolist()), samples.ids.tolist(), strict=True))]
    if not best:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT,
                            "None of these face samples has a usable face embedding.")
    person = db.enroll_samples(session, root=root, name=body.name, rows=rows,
                               best_ids=best[:ENROLL_MAX_FACES])
    assert person.id is not None
    return EnrollGroupResult(person_id=person.id, name=person.name,
                             enrolled_faces=min(len(best), ENROLL_MAX_FACES))


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
    updated = db.label_samples(session, sample_ids=body.sample_ids, label=label)
    return LabelResult(updated=updated, label=label)


@router.post("/clips", response_model=EventListResponse)
def group_clips(body: GroupClips, session: SessionDep) -> Any:
    """Recorded clips a face group appears in."""
    rows = db.samples_by_ids(session, sample_ids=body.sample_ids)
    items = db.group_clips(session, rows=rows, now=datetime.now(UTC))
    return EventListResponse(total=len(items), items=[EventPublic.from_event(e) for e in items])


@router.post("/samples/bulk-delete", response_model=DeleteResult)
def bulk_delete_samples(body: BulkDelete, session: SessionDep, root: RootDep) -> Any:
    """Drop the given captured faces (+ crops)."""
    deleted = db.delete_samples(session, root=root, sample_ids=body.ids)
    session.commit()
    return DeleteResult(deleted=deleted)


@router.post("/samples/clear-all", response_model=DeleteResult)
def clear_all_samples(body: SampleClearAll, session: SessionDep, root: RootDep) -> Any:
    """Delete ALL face samples (optionally one label) — requires confirm."""
    require_confirmed(body, "face samples")
    return DeleteResult(deleted=db.clear_samples(session, root=root, label=body.label))


@router.delete("/samples/{sample_id}", status_code=status.HTTP_204_NO_CONTENT)
def delete_sample(sample_id: IdPath, session: SessionDep, root: RootDep) -> Response:
    """Drop one captured face (+ crop)."""
    get_or_404(session, FaceSample, sample_id)
    db.delete_samples(session, root=root, sample_ids=[sample_id])
    session.commit()
    return Response(status_code=status.HTTP_204_NO_CONTENT)
