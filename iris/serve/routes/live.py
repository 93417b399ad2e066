"""/api/live: snapshot and MJPEG of each camera's latest annotated frame, manual recording."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from fastapi import APIRouter, HTTPException, Query, Request, Response, status
from sqlalchemy.engine import Engine
from starlette.concurrency import run_in_threadpool

from iris.db.tables import Camera
from iris.recording.manual import open_manual
from iris.serve.deps import CurrentUser, EngineDep, RuntimeDep, SessionDep, SettingsDep
from iris.serve.errors import CameraNotRunning, ServiceUnavailable
from iris.serve.live import BOUNDARY, LiveStreamResponse, live_hub
from iris.serve.live_sources import jpeg_fetch
from iris.serve.lookup import exists_or_404, get_or_404
from iris.serve.placeholder import no_signal_jpeg
from iris.serve.relay import RelaySpec, live_response
from iris.serve.schemas.ids import IdPath
from iris.serve.schemas.live import RecordStarted, RecordStop, RecordStopped

router = APIRouter()

NO_STORE = {"Cache-Control": "no-store", "X-Accel-Buffering": "no"}

SNAPSHOT_WAIT_S = 2.0
"""How long a snapshot of a running camera waits for its first frame: a camera reads
"online" at its first packet, a moment before the first frame decodes."""


async def _require_camera_async(engine: Engine, camera_id: int) -> None:
    await run_in_threadpool(exists_or_404, engine, Camera, camera_id)


@router.get("/{camera_id}/snapshot")
async def snapshot(camera_id: IdPath, engine: EngineDep, runtime: RuntimeDep) -> Response:
    """Latest annotated frame as one image/jpeg ("no signal" before the first frame)."""
    await _require_camera_async(engine, camera_id)
    try:
        jpeg = await runtime.snapshot_jpeg(camera_id, SNAPSHOT_WAIT_S)
    except ServiceUnavailable:  # a camera that does not answer shows "no signal"
        jpeg = None
    return Response(jpeg or no_signal_jpeg(), media_type="image/jpeg", headers=NO_STORE)


@router.get("/{camera_id}/stream")
async def stream(
    camera_id: IdPath,
    request: Request,
    engine: EngineDep,
    runtime: RuntimeDep,
    settings: SettingsDep,
    principal: CurrentUser,
    fps: float | None = Query(None, gt=0, le=1000, description="Requested frame rate"),
) -> LiveStreamResponse:
    """MJPEG (multipart/x-mixed-replace) of annotated frames at ≤ ?fps."""
    await _require_camera_async(engine, camera_id)
    hub = live_hub(request, settings)
    return live_response(  # the Serve proxy fans the parts out when it can
        request, settings, principal,
        RelaySpec("mjpeg", camera_id, settings.ray_namespace, hub.clamp(fps)),
        lambda: hub.stream(camera_id, jpeg_fetch(runtime, camera_id), fps, no_signal_jpeg()),
        media_type=f"multipart/x-mixed-replace; boundary={BOUNDARY}", headers=NO_STORE)


@router.post("/{camera_id}/record/start", response_model=RecordStarted)
def record_start(camera_id: IdPath, session: SessionDep, runtime: RuntimeDep) -> Any:
    """Begin a manual recording: returns the server-trusted started_at."""
    get_or_404(session, Camera, camera_id)
    if not runtime.camera_running(camera_id):
        raise CameraNotRunning(camera_id)
    started = datetime.now(UTC)
    open_manual(session, camera_id=camera_id, started_at=started)  # its footage is kept
    return RecordStarted(camera_id=camera_id, started_at=started)


@router.post("/{camera_id}/record/stop", response_model=RecordStopped)
async def record_stop(camera_id: IdPath, body: RecordStop, engine: EngineDep,
                      runtime: RuntimeDep) -> Any:
    """Finish a manual recording: persist a manual event + clip spanning [started_at, now]."""
    await _require_camera_async(engine, camera_id)
    started = _parse_started_at(body.started_at)
    if started > datetime.now(UTC):
        raise HTTPException(status.HTTP_400_BAD_REQUEST, "started_at is in the future.")
    result = await runtime.record_stop(camera_id, started.timestamp())
    if not result.saved:
        raise HTTPException(status.HTTP_409_CONFLICT, result.error or "Nothing was recorded.")
    return RecordStopped.from_result(result)


def _parse_started_at(value: str) -> datetime:
    try:
        parsed = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    except (ValueError, AttributeError):
        raise HTTPException(status.HTTP_400_BAD_REQUEST,
                            "Invalid started_at: expected an ISO 8601 timestamp.") from None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
