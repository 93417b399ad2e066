"""/api/identities: the automatic cross-camera identities, their sightings, and corrections.

Reads go straight to the DB (`iris.db.identities`). Merge, split and delete go through the
runtime (`Runtime.identity_*`): the IdentityManager actor keeps its galleries in step, and while
it is not running they run on an in-process core over the same DB and data root. Auto split
needs the actor's galleries: 501 without it.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from functools import partial
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Query, Request, Response, status
from sqlalchemy.engine import Engine
from sqlmodel import Session
from starlette.concurrency import run_in_threadpool

from iris.db import identities as q
from iris.db.chunks import chunks
from iris.db.tables import FaceSample, Identity, Sighting
from iris.identity import IdentityNotFound, OpResult
from iris.serve.deps import EngineDep, RootDep, RuntimeDep, SessionDep
from iris.serve.files import file_response
from iris.serve.lookup import get_or_404, require_confirmed, stored_jpeg
from iris.serve.schemas.common import BulkDelete, DeleteResult
from iris.serve.schemas.events import EventListResponse, EventPublic
from iris.serve.schemas.identities import (
    FaceSampleListResponse,
    FaceSamplePublic,
    IdentityAnalytics,
    IdentityClearAll,
    IdentityDetail,
    IdentityListResponse,
    IdentityOpResult,
    IdentityPublic,
    IdentityUpdate,
    MergeRequest,
    SightingListResponse,
    SightingPublic,
    SplitRequest,
)
from iris.serve.schemas.ids import DB_ID_MAX, IdPath, Limit, Offset

router = APIRouter()

SPLIT_NEEDS = "Give sighting_ids to split off, or auto=true to re-cluster."
AUTO_NEEDS_ACTOR = "Auto split needs the identity layer (IdentityManager), which is not running."


def _detail(session: Session, root: Path, identity: Identity, recent: int) -> IdentityDetail:
    assert identity.id is not None
    card = q.identity_cards(session, root=root, identities=[identity])[0]
    faces, looks = q.exemplar_counts(session, identity_id=identity.id)
    _, rows = q.identity_sightings(session, root=root, identity_id=identity.id, limit=recent)
    return IdentityDetail.model_validate(
        {
            **IdentityPublic.fields_of(card),
            **identity.model_dump(include={"notes", "person_id", "rep_sighting_id",
                                           "created_at"}),
            "num_face_exemplars": faces,
            "num_appearance_exemplars": looks,
            "recent": [SightingPublic.from_row(r) for r in rows],
        }
    )


# ----------------------------------------------------------------------------- corrections
async def _correct(operation: Callable[[], Awaitable[OpResult]]) -> OpResult:
    """Run a correction; the identity layer's refusals become 404 / 400."""
    try:
        return await operation()
    except IdentityNotFound as exc:
        raise HTTPException(status.HTTP_404_NOT_FOUND,
                            f"Identity {exc.identity_id} not found.") from exc
    except ValueError as exc:
        raise HTTPException(status.HTTP_400_BAD_REQUEST, str(exc)) from exc


def _delete_ids(engine: Engine, object_class: str | None) -> list[int]:
    with Session(engine) as session:
        return q.class_identity_ids(session, object_class=object_class)


@router.post("/merge", response_model=IdentityOpResult)
async def merge_identities(body: MergeRequest, runtime: RuntimeDep) -> Any:
    """Merge source_ids into target_id."""
    result = await _correct(lambda: runtime.identity_merge(body.target_id, body.source_ids))
    return IdentityOpResult.from_op(result)


@router.post("/bulk-delete", response_model=DeleteResult)
async def bulk_delete_identities(body: BulkDelete, runtime: RuntimeDep) -> Any:
    """Delete the given identity ids."""
    if not body.ids:
        return DeleteResult(deleted=0)
    result = await _correct(lambda: runtime.identity_delete(body.ids))
    return DeleteResult(deleted=len(result.affected_ids))


@router.post("/clear-all", response_model=DeleteResult)
async def clear_all_identities(body: IdentityClearAll, engine: EngineDep,
                               runtime: RuntimeDep) -> Any:
    """Delete ALL identities (optionally one class) — requires confirm."""
    require_confirmed(body, "identities")
    ids = await run_in_threadpool(_delete_ids, engine, body.object_class)
    deleted = 0
    # One transaction per chunk, like the events clear-all: a crash midway leaves whole
    # chunks gone, and the sighting writer is never locked out for long.
    for chunk in chunks(ids):
        result = await _correct(partial(runtime.identity_delete, chunk))
        deleted += len(result.affected_ids)
    return DeleteResult(deleted=deleted)


# ----------------------------------------------------------------------------- reads
@router.get("", response_model=IdentityListResponse)
def list_identities(
    session: SessionDep,
    root: RootDep,
    named_only: bool = False,
    min_sightings: Annotated[int, Query(ge=0, le=DB_ID_MAX)] = 0,
    object_class: Annotated[str | None, Query(max_length=50)] = None,
    limit: Limit = 100,
    offset: Offset = 0,
) -> Any:
    """List identities, most-recently-seen first."""
    total, cards = q.list_identities(
        session, root=root, named_only=named_only, min_sightings=min_sightings,
        object_class=object_class, limit=limit, offset=offset,
    )
    return IdentityListResponse(total=total, items=[IdentityPublic.from_card(c) for c in cards])


@router.get("/analytics", response_model=IdentityAnalytics)
def identity_analytics(
    session: SessionDep, object_class: Annotated[str, Query(max_length=50)] = "person"
) -> Any:
    """Aggregates for the People analytics dashboard."""
    data = q.analytics(session, object_class=object_class, now=datetime.now(UTC))
    return IdentityAnalytics.model_validate({"object_class": object_class, **data})


@router.get("/sightings/{sighting_id}/thumbnail")
def sighting_thumbnail(
    sighting_id: IdPath, request: Request, session: SessionDep, root: RootDep
) -> Response:
    """One sighting's body-crop JPEG."""
    sighting = get_or_404(session, Sighting, sighting_id)
    return stored_jpeg(request, root, sighting.thumb_path, subject="The crop",
                       missing="No crop stored for it.")


@router.get("/{identity_id}", response_model=IdentityDetail)
def get_identity(
    identity_id: IdPath,
    session: SessionDep,
    root: RootDep,
    recent: Annotated[int, Query(ge=0, le=200)] = 24,
) -> Any:
    """One identity + recent inline sightings."""
    return _detail(session, root, get_or_404(session, Identity, identity_id), recent)


@router.get("/{identity_id}/sightings", response_model=SightingListResponse)
def list_sightings(
    identity_id: IdPath,
    session: SessionDep,
    root: RootDep,
    limit: Limit = 100,
    offset: Offset = 0,
) -> Any:
    """Paginated cross-camera/time sightings."""
    get_or_404(session, Identity, identity_id)
    total, rows = q.identity_sightings(
        session, root=root, identity_id=identity_id, limit=limit, offset=offset
    )
    return SightingListResponse(total=total, items=[SightingPublic.from_row(r) for r in rows])


@router.get("/{identity_id}/events", response_model=EventListResponse)
def list_identity_events(
    identity_id: IdPath, session: SessionDep, limit: Limit = 50, offset: Offset = 0
) -> Any:
    """Recorded clips this identity appears in."""
    get_or_404(session, Identity, identity_id)
    total, rows = q.identity_events(session, identity_id=identity_id, limit=limit, offset=offset)
    return EventListResponse(total=total, items=[EventPublic.from_event(e) for e in rows])


@router.get("/{identity_id}/faces", response_model=FaceSampleListResponse)
def list_identity_faces(
    identity_id: IdPath, session: SessionDep, root: RootDep, limit: Limit = 100,
    offset: Offset = 0,
) -> Any:
    """Face samples captured for this identity."""
    get_or_404(session, Identity, identity_id)
    total, rows = q.identity_faces(session, identity_id=identity_id, limit=limit, offset=offset)
    items = [_face(root, sample) for sample in rows]
    return FaceSampleListResponse(total=total, items=items)


def _face(root: Path, sample: FaceSample) -> FaceSamplePublic:
    return FaceSamplePublic.from_sample(sample, q.stored_file(root, sample.crop_path) is not None)


@router.get("/{identity_id}/thumbnail")
def identity_thumbnail(
    identity_id: IdPath, request: Request, session: SessionDep, root: RootDep
) -> Response:
    """Representative body-crop JPEG."""
    identity = get_or_404(session, Identity, identity_id)
    path = q.representative_thumbs(session, root=root, identities=[identity]).get(identity_id)
    if path is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, "Identity has no body crop on disk.")
    try:
        return file_response(path, request.headers, media_type="image/jpeg")
    except FileNotFoundError as exc:
        raise HTTPException(status.HTTP_404_NOT_FOUND, "The crop file is missing on disk."
                            ) from exc


@router.put("/{identity_id}", response_model=IdentityDetail)
def update_identity(
    identity_id: IdPath, body: IdentityUpdate, session: SessionDep, root: RootDep
) -> Any:
    """Rename / annotate / confirm."""
    identity = get_or_404(session, Identity, identity_id)
    q.update_identity(session, identity=identity, changes=body.model_dump(exclude_unset=True))
    return _detail(session, root, identity, recent=0)


@router.post("/{identity_id}/split", response_model=IdentityOpResult)
async def split_identity(identity_id: IdPath, body: SplitRequest, runtime: RuntimeDep) -> Any:
    """Split off sightings into a new identity."""
    if not body.sighting_ids and not body.auto:
        raise HTTPException(status.HTTP_400_BAD_REQUEST, SPLIT_NEEDS)
    if not body.sighting_ids and not await run_in_threadpool(runtime.identity_running):
        raise HTTPException(status.HTTP_501_NOT_IMPLEMENTED, AUTO_NEEDS_ACTOR)
    result = await _correct(lambda: runtime.identity_split(
        identity_id, sighting_ids=body.sighting_ids, auto=body.auto and not body.sighting_ids,
        new_name=body.new_name))
    return IdentityOpResult.from_op(result)


@router.delete("/{identity_id}", status_code=status.HTTP_204_NO_CONTENT)
async def delete_identity(identity_id: IdPath, runtime: RuntimeDep) -> Response:
    """Recursive delete."""
    result = await _correct(lambda: runtime.identity_delete([identity_id]))
    if not result.affected_ids:
        raise HTTPException(status.HTTP_404_NOT_FOUND, "Identity not found.")
    return Response(status_code=status.HTTP_204_NO_CONTENT)
