"""/api/events: list and filter recordings, delete them with their files, stream their media."""

from __future__ import annotations

import mimetypes
import time
from datetime import datetime
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Query, Request, Response, status
from sqlalchemy import func, select
from sqlalchemy.engine import Engine
from sqlmodel import Session, col

from iris.db.chunks import CHUNK
from iris.db.events import Severity, event_filters, review_events, unreviewed_counts
from iris.db.purge import delete_events, delete_finished_events
from iris.db.tables import Event
from iris.serve.clip_responses import serve_cut_clip
from iris.serve.deps import EngineDep, RootDep, SessionDep
from iris.serve.files import serve_stored
from iris.serve.schemas.common import BulkDelete
from iris.serve.schemas.events import (
    ClearAll,
    DeleteResult,
    EventListResponse,
    EventPublic,
    ReviewBody,
    ReviewResult,
    UnreviewedCounts,
)
from iris.serve.schemas.ids import IdFilter, IdPath, Limit, Offset

__all__ = ["event_filters", "router"]

router = APIRouter()

CONFIRM_REQUIRED = "Refusing to delete all events: send {\"confirm\": true} to confirm."


def get_event_or_404(session: Session, event_id: int) -> Event:
    """The event row, or 404 `Event not found.`."""
    event = session.get(Event, event_id)
    if event is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, "Event not found.")
    return event


@router.get("", response_model=EventListResponse)
def list_events(
    session: SessionDep,
    camera_id: IdFilter = None,
    person_id: IdFilter = None,
    label: Annotated[str | None, Query(max_length=50)] = None,
    since: Annotated[datetime | None, Query(alias="from")] = None,
    until: Annotated[datetime | None, Query(alias="to")] = None,
    zone: Annotated[str | None, Query(min_length=1, max_length=32)] = None,
    reviewed: bool | None = None,
    severity: Severity | None = None,
    limit: Limit = 50,
    offset: Offset = 0,
) -> Any:
    """List/filter events, newest-first, paginated."""
    where = event_filters(
        camera_id=camera_id, person_id=person_id, label=label, since=since, until=until,
        zone=zone, reviewed=reviewed, severity=severity,
    )
    total = session.execute(select(func.count()).select_from(Event).where(*where)).scalar_one()
    rows = session.execute(
        select(Event)
        .where(*where)
        .order_by(col(Event.ts).desc(), col(Event.id).desc())
        .limit(limit)
        .offset(offset)
    ).scalars()
    return EventListResponse(total=total, items=[EventPublic.from_event(e) for e in rows])


@router.post("/review", response_model=ReviewResult)
def review(body: ReviewBody, session: SessionDep) -> Any:
    """Mark events reviewed (or unreviewed again); ids of missing events are skipped."""
    return ReviewResult(updated=review_events(session, ids=body.ids, reviewed=body.reviewed))


@router.get("/unreviewed", response_model=UnreviewedCounts)
def unreviewed(session: SessionDep, camera_id: IdFilter = None,
               severity: Severity | None = None) -> Any:
    """Counts of events not reviewed yet, per camera (only cameras that have some)."""
    counts = unreviewed_counts(session, where=event_filters(camera_id=camera_id,
                                                             severity=severity))
    return UnreviewedCounts(total=sum(counts.values()),
                            by_camera={str(k): v for k, v in counts.items()})


@router.post("/bulk-delete", response_model=DeleteResult)
def bulk_delete_events(body: BulkDelete, session: SessionDep, root: RootDep) -> Any:
    """Delete the given event ids (+ their files); events still recording are kept."""
    deleted, kept = delete_finished_events(session, root, body.ids)
    session.commit()
    return DeleteResult(deleted=deleted, kept=kept)


@router.post("/clear-all", response_model=DeleteResult)
def clear_all_events(body: ClearAll, session: SessionDep, root: RootDep) -> Any:
    """Delete ALL events (optionally filtered) — requires confirm; events recording are kept."""
    if not body.confirm:
        raise HTTPException(status.HTTP_400_BAD_REQUEST, CONFIRM_REQUIRED)
    where = event_filters(camera_id=body.camera_id, label=body.label)
    ids = list(session.execute(select(col(Event.id)).where(*where)).scalars())
    deleted = kept = 0
    # One transaction per chunk: recorders keep writing between chunks, and a crash midway
    # leaves whole chunks deleted, never rows without files.
    for start in range(0, len(ids), CHUNK):
        gone, left = delete_finished_events(session, root, ids[start : start + CHUNK])
        session.commit()
        deleted, kept = deleted + gone, kept + left
    return DeleteResult(deleted=deleted, kept=kept)


@router.get("/{event_id}", response_model=EventPublic)
def get_event(event_id: IdPath, session: SessionDep) -> Any:
    """Full event detail."""
    return EventPublic.from_event(get_event_or_404(session, event_id))


@router.delete("/{event_id}", status_code=status.HTTP_204_NO_CONTENT)
def delete_event(event_id: IdPath, session: SessionDep, root: RootDep) -> Response:
    """Delete event row + clip + thumbnail files."""
    get_event_or_404(session, event_id)
    delete_events(session, root, [event_id])
    session.commit()
    return Response(status_code=status.HTTP_204_NO_CONTENT)


def _serve_media(
    request: Request, root: Path, stored: str | None, what: str, default_type: str
) -> Response:
    if not stored:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"Event has no {what}.")
    media_type = mimetypes.guess_type(stored)[0] or default_type
    return serve_stored(request.headers, root, stored, f"The event's {what}", media_type,
                        accel=True)


def _event_paths(engine: Engine, event_id: int) -> Event:
    # A session of its own, closed before the file streams: a long download must not pin a
    # pooled DB connection (the pool is 5 + 10).
    with Session(engine, expire_on_commit=False) as session:
        return get_event_or_404(session, event_id)


@router.get("/{event_id}/clip")
def event_clip(event_id: IdPath, request: Request, engine: EngineDep, root: RootDep) -> Response:
    """Stream the recorded mp4 clip (HTTP Range supported).

    Cut from the recording store on the first request (first seen - pre … last seen + post;
    an event still recording: what is recorded so far), then served from the clip cache. An
    event recorded before the store has a clip file of its own.
    """
    event = _event_paths(engine, event_id)
    if event.clip_path or event.clip_start is None:
        return _serve_media(request, root, event.clip_path, "clip", "video/mp4")
    end = event.clip_end if event.clip_end is not None else time.time()
    return serve_cut_clip(request.headers, engine, root, camera_id=event.camera_id,
                          start=event.clip_start, end=end, name=f"event-{event.id}",
                          subject="The event's clip",
                          nothing="Event has no clip: nothing was recorded in its range.")


@router.get("/{event_id}/thumbnail")
def event_thumbnail(
    event_id: IdPath, request: Request, engine: EngineDep, root: RootDep
) -> Response:
    """Event thumbnail JPEG."""
    event = _event_paths(engine, event_id)
    return _serve_media(request, root, event.thumb_path, "thumbnail", "image/jpeg")
