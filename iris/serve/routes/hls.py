"""/api/live/{id}/hls: on-demand RTSP→HLS (live with sound) through the runtime.

The session manager (the `HlsManager` actor, behind `Runtime.hls_ensure` / `hls_close`) runs
ffmpeg (stream copy) into `<data root>/hls/<id>/`; each playlist request starts or keeps the
session alive and gets the playlist from it; segments are served from the shared data root.
The actor caps sessions in all; this route caps the sessions each principal keeps alive
(`PrincipalSessions`), before the actor starts one for them.
"""

from __future__ import annotations

import re
from pathlib import Path

from fastapi import APIRouter, HTTPException, Request, Response, status
from pydantic import BaseModel
from starlette.concurrency import run_in_threadpool

from iris.actors.hls import SEGMENT_PATTERN, EnsureResult
from iris.db.tables import Camera
from iris.media import PathEscapesRoot, contained
from iris.serve.deps import CurrentUser, RuntimeDep, SessionDep, SettingsDep
from iris.serve.errors import ServiceUnavailable
from iris.serve.limits import PrincipalSessions, principal_key
from iris.serve.lookup import get_or_404
from iris.serve.schemas.ids import IdPath
from iris.settings import Settings

router = APIRouter()

PLAYLIST_WAIT_S = 10.0  # a cold start (connect + three 1 s segments) takes 3-5 s
SEGMENT_NAME = re.compile(SEGMENT_PATTERN, re.ASCII)
PLAYLIST_TYPE = "application/vnd.apple.mpegurl"
SEGMENT_TYPE = "video/mp2t"
# Segment numbers restart with each session, so nothing may be cached; nginx must not buffer.
NO_STORE = {"Cache-Control": "no-store", "X-Accel-Buffering": "no"}
NOT_READY_RETRY_S = "2"

_STATE_ERRORS = {
    "not_found": status.HTTP_404_NOT_FOUND,
    "camera_disabled": status.HTTP_409_CONFLICT,
    "disabled": status.HTTP_503_SERVICE_UNAVAILABLE,
    "capacity": status.HTTP_503_SERVICE_UNAVAILABLE,
}


class HlsClosed(BaseModel):
    """Whether a close request stopped a running session."""

    closed: bool


def _unavailable(detail: str, retry_after: str | None = None) -> HTTPException:
    headers = {"Retry-After": retry_after} if retry_after else None
    return HTTPException(status.HTTP_503_SERVICE_UNAVAILABLE, detail, headers=headers)


def _sessions(request: Request, settings: Settings) -> PrincipalSessions:
    sessions = getattr(request.app.state, "hls_sessions", None)
    if sessions is None:
        sessions = request.app.state.hls_sessions = PrincipalSessions(
            settings.hls_max_sessions_per_principal, settings.hls_idle_seconds)
    return sessions  # type: ignore[no-any-return]


def _read_bytes(path: Path) -> bytes | None:
    try:
        return path.read_bytes()
    except OSError:  # ffmpeg rotated it away or the session just closed
        return None


@router.get("/{camera_id}/hls/index.m3u8")
async def hls_playlist(
    camera_id: IdPath, request: Request, session: SessionDep, runtime: RuntimeDep,
    settings: SettingsDep, principal: CurrentUser,
) -> Response:
    """Start (idempotently) the camera's HLS session and serve its playlist."""
    camera = await run_in_threadpool(get_or_404, session, Camera, camera_id)
    if not settings.hls_enabled:
        raise _unavailable("HLS live streaming is disabled on this server (hls_enabled).")
    if not camera.enabled:
        raise HTTPException(status.HTTP_409_CONFLICT, "Camera is disabled.")
    sessions, who = _sessions(request, settings), principal_key(principal)
    if sessions.would_exceed(who, camera_id) and (
            running := await runtime.hls_running()) is not None:
        # Claims outlive sessions closed elsewhere (camera deleted or disabled, idle reap).
        sessions.keep_only(who, running)
    new = sessions.claim(who, camera_id)  # 429 past this caller's share, before any start
    try:
        result = await runtime.hls_ensure(camera_id, PLAYLIST_WAIT_S)
    except ServiceUnavailable:
        if new:
            sessions.release(who, camera_id)
        raise
    # A session starting for this caller counts against it like a ready one.
    if new and result.state not in ("ready", "starting"):
        sessions.release(who, camera_id)
    return _playlist_or_error(result)


def _playlist_or_error(result: EnsureResult) -> Response:
    if result.state in _STATE_ERRORS:
        raise HTTPException(_STATE_ERRORS[result.state], result.detail)
    if result.state != "ready":
        reason = f": {result.detail}" if result.detail else ""
        raise _unavailable(f"Live stream is not ready yet{reason}", NOT_READY_RETRY_S)
    # The actor reads the playlist itself: it knows which segments earlier answers listed.
    return Response(result.playlist, media_type=PLAYLIST_TYPE, headers=NO_STORE)


async def hls_close(camera_id: IdPath, request: Request, session: SessionDep,
                    runtime: RuntimeDep, settings: SettingsDep,
                    principal: CurrentUser) -> HlsClosed:
    """Stop the camera's HLS session (player close / sendBeacon); idempotent."""
    await run_in_threadpool(get_or_404, session, Camera, camera_id)
    _sessions(request, settings).release(principal_key(principal), camera_id)
    return HlsClosed(closed=await run_in_threadpool(runtime.hls_close, camera_id))


# GET (a link) and POST (the player's sendBeacon) close alike; one operation id each.
for _method in ("GET", "POST"):
    router.add_api_route("/{camera_id}/hls/close", hls_close, methods=[_method],
                         response_model=HlsClosed, operation_id=f"hls_close_{_method.lower()}")

# Registered after close: /hls/{segment} would otherwise catch GET /hls/close.
@router.get("/{camera_id}/hls/{segment}")
async def hls_segment(camera_id: IdPath, segment: str, settings: SettingsDep) -> Response:
    """Serve one .ts segment of the camera's HLS session."""
    if not SEGMENT_NAME.fullmatch(segment):
        raise HTTPException(status.HTTP_400_BAD_REQUEST, "Invalid segment name.")
    try:
        path = contained(settings.root, Path("hls") / str(camera_id) / segment)
    except PathEscapesRoot as exc:  # unreachable with a validated name; kept as the guard
        raise HTTPException(status.HTTP_400_BAD_REQUEST, "Invalid segment name.") from exc
    data = await run_in_threadpool(_read_bytes, path)
    if data is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, "Segment not found.")
    return Response(data, media_type=SEGMENT_TYPE, headers=NO_STORE)

