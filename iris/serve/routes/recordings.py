"""/api/recordings: the recording store by time: coverage, day summaries, export clips and an
HLS VOD playlist for scrubbing (its segments remuxed to MPEG-TS on request)."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from typing import Annotated, Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import av
from fastapi import APIRouter, HTTPException, Query, Request, Response, status
from sqlmodel import Session

from iris.db.tables import Camera
from iris.layout import Layout
from iris.media import PathEscapesRoot, contained
from iris.recording.index import segment_by_id, segments_between
from iris.recording.playlist import PLAYLIST_MEDIA_TYPE, TS_MEDIA_TYPE, render_playlist, segment_ts
from iris.recording.queries import coverage, day_summary
from iris.serve.clip_responses import serve_cut_clip
from iris.serve.deps import EngineDep, RootDep, SessionDep, SettingsDep
from iris.serve.lookup import exists_or_404, get_or_404
from iris.serve.schemas.ids import DB_ID_MAX, IdPath
from iris.serve.schemas.recordings import DaySummary, RecordingsCoverage

router = APIRouter()

MAX_RANGE = timedelta(days=7)
MAX_POSITION_MS = int(MAX_RANGE.total_seconds() * 1000)
NO_STORE = {"Cache-Control": "no-store"}

CameraQuery = Annotated[int, Query(ge=1, le=DB_ID_MAX, description="The camera")]
Since = Annotated[datetime, Query(alias="from", description="ISO time, inclusive")]
Until = Annotated[datetime, Query(alias="to", description="ISO time, exclusive")]


def _utc(value: datetime) -> datetime:
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)  # naive = UTC


def _span(since: datetime, until: datetime, longest: timedelta) -> tuple[float, float]:
    """[from, to) as epoch seconds; 400 when reversed, empty or longer than `longest`."""
    start, end = _utc(since).timestamp(), _utc(until).timestamp()
    if end <= start:
        raise HTTPException(status.HTTP_400_BAD_REQUEST, "Invalid range: 'to' must be after "
                                                         "'from'.")
    if end - start > longest.total_seconds():
        raise HTTPException(status.HTTP_400_BAD_REQUEST,
                            f"Invalid range: at most {_duration(longest)} at once.")
    return start, end


def _duration(span: timedelta) -> str:
    seconds = span.total_seconds()
    if seconds >= 86400 and seconds % 86400 == 0:
        return f"{seconds / 86400:g} days"
    if seconds >= 3600 and seconds % 3600 == 0:
        return f"{seconds / 3600:g} h"
    return f"{seconds:g} s"


def _nothing(start: float, end: float) -> str:
    return (f"Nothing was recorded between {datetime.fromtimestamp(start, UTC).isoformat()} "
            f"and {datetime.fromtimestamp(end, UTC).isoformat()}.")


@router.get("", response_model=RecordingsCoverage)
def recordings(session: SessionDep, camera_id: CameraQuery, since: Since,
               until: Until) -> Any:
    """Merged coverage of [from, to) (at most 7 days): spans, gaps, recorded seconds."""
    get_or_404(session, Camera, camera_id)
    start, end = _span(since, until, MAX_RANGE)
    return RecordingsCoverage.of(coverage(session, camera_id=camera_id, start=start, end=end))


@router.get("/summary", response_model=DaySummary)
def summary(session: SessionDep, camera_id: CameraQuery,
            day: Annotated[date, Query(description="YYYY-MM-DD")],
            tz: Annotated[str, Query(max_length=64, description="IANA zone of the day")] = "UTC",
            ) -> Any:
    """Per-hour recorded seconds, gap seconds and event counts of one day (the timeline)."""
    get_or_404(session, Camera, camera_id)
    try:
        zone = ZoneInfo(tz)
    except (ZoneInfoNotFoundError, ValueError):
        raise HTTPException(status.HTTP_400_BAD_REQUEST, f"Unknown time zone {tz!r}.") from None
    hours = day_summary(session, camera_id=camera_id, day=day, zone=zone)
    return DaySummary.of(camera_id, day, tz, hours)


@router.get("/{camera_id}/clip")
def export_clip(camera_id: IdPath, since: Since, until: Until, request: Request,
                engine: EngineDep, root: RootDep, settings: SettingsDep) -> Response:
    """video/mp4 of [from, to) (remuxed, Range supported), for export and download."""
    exists_or_404(engine, Camera, camera_id)
    start, end = _span(since, until, timedelta(seconds=settings.recordings_clip_max_seconds))
    stamp = datetime.fromtimestamp(start, UTC).strftime("%Y%m%dT%H%M%SZ")
    return serve_cut_clip(
        request.headers, engine, root, camera_id=camera_id, start=start, end=end,
        name=f"range-{round(start * 1000)}-{round(end * 1000)}", subject="The recording",
        nothing=_nothing(start, end), download=f"camera-{camera_id}-{stamp}.mp4")


@router.get("/{camera_id}/playlist.m3u8")
def playlist(camera_id: IdPath, since: Since, until: Until, session: SessionDep,
             root: RootDep) -> Response:
    """HLS VOD playlist over the stored segments of [from, to) (at most 7 days)."""
    get_or_404(session, Camera, camera_id)
    start, end = _span(since, until, MAX_RANGE)
    found = segments_between(session, layout=Layout(root), camera_id=camera_id, start=start,
                             end=end)
    if not found:
        raise HTTPException(status.HTTP_404_NOT_FOUND, _nothing(start, end))
    return Response(render_playlist(found), media_type=PLAYLIST_MEDIA_TYPE, headers=NO_STORE)


@router.get("/{camera_id}/segments/{segment_id}.ts")
def playlist_segment(camera_id: IdPath, segment_id: IdPath, engine: EngineDep, root: RootDep,
                     at: Annotated[int, Query(ge=0, le=MAX_POSITION_MS,
                                              description="Playlist position, ms")] = 0,
                     ) -> Response:
    """One stored segment as MPEG-TS, its timestamps at its playlist position."""
    layout = Layout(root)
    with Session(engine) as session:
        found = segment_by_id(session, layout=layout, camera_id=camera_id,
                              segment_id=segment_id)
    if found is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, "Segment not found.")
    try:
        path = contained(root, found.path.relative_to(root))
    except PathEscapesRoot:
        raise HTTPException(status.HTTP_400_BAD_REQUEST,
                            "The segment's path escapes the data root.") from None
    try:
        body = segment_ts(replace(found, path=path), at / 1000)
    except (FileNotFoundError, av.FFmpegError):
        raise HTTPException(status.HTTP_404_NOT_FOUND,
                            "The segment's file is missing on disk.") from None
    return Response(body, media_type=TS_MEDIA_TYPE, headers={"Cache-Control": "private"})
