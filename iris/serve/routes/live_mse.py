"""/api/live: the camera's own video as fragmented MP4 (MSE), and its boxes as server-sent events.

Neither decodes nor encodes anything: the camera remuxes its packets (`iris.live.fmp4`), the
ingress fans the same bytes out to every viewer (`iris.serve.mse`, `iris.serve.overlays`), and
the browser draws the boxes over the video itself.
"""

from __future__ import annotations

from fastapi import APIRouter, HTTPException, Request, status
from sqlalchemy.engine import Engine
from sqlmodel import Session
from starlette.concurrency import run_in_threadpool

from iris.db.tables import Camera
from iris.live.fmp4 import Fragment, LiveInit, LiveUnavailable
from iris.live.overlay import Overlay
from iris.serve import mse, overlays
from iris.serve.deps import CurrentUser, EngineDep, RuntimeDep, SettingsDep
from iris.serve.limits import LIVE_RETRY_AFTER_S, principal_key
from iris.serve.live import LiveStreamResponse, live_hub
from iris.serve.lookup import get_or_404
from iris.serve.mse import LiveNotReady, MseHub, MseSource
from iris.serve.overlays import FetchOverlay, OverlayHub
from iris.serve.runtime import CAMERA_NOT_RUNNING, CameraNotRunning, Runtime
from iris.serve.schemas.ids import IdPath
from iris.serve.schemas.live_mse import MseInfo

router = APIRouter()

LONG_POLL_S = 2.0
READY_WAIT_S = 6.0
"""How long opening a stream waits for the camera's first init segment (one GOP at most)."""
STREAM_HEADERS = {"Cache-Control": "no-store", "X-Accel-Buffering": "no"}
CODECS_HEADER = "X-Iris-Codecs"


def _hubs(request: Request) -> tuple[MseHub, OverlayHub]:
    state = request.app.state
    if getattr(state, "mse_hub", None) is None:
        state.mse_hub, state.overlay_hub = MseHub(), OverlayHub()
    return state.mse_hub, state.overlay_hub


def _camera_exists(engine: Engine, camera_id: int) -> None:
    with Session(engine) as session:  # short: a stream lives for minutes
        get_or_404(session, Camera, camera_id)


async def _running_camera(engine: Engine, runtime: Runtime, camera_id: int) -> None:
    """404 for a missing camera, 409 for one without a worker (disabled)."""
    await run_in_threadpool(_camera_exists, engine, camera_id)
    if not await run_in_threadpool(runtime.camera_running, camera_id):
        raise CameraNotRunning(camera_id)


def _source(runtime: Runtime, camera_id: int) -> MseSource:
    async def init() -> LiveInit | LiveUnavailable:
        try:
            return await runtime.live_init(camera_id, LONG_POLL_S)
        except CameraNotRunning:
            return LiveUnavailable(CAMERA_NOT_RUNNING)

    async def fragments(epoch: int, after_seq: int) -> list[Fragment] | None:
        return await runtime.live_fragments(camera_id, epoch, after_seq, LONG_POLL_S)

    return MseSource(init, fragments)


def _overlay_fetch(runtime: Runtime, camera_id: int) -> FetchOverlay:
    async def fetch(after_seq: int) -> Overlay | None:
        return await runtime.live_overlay(camera_id, after_seq, LONG_POLL_S)

    return fetch


async def _ready(hub: MseHub, runtime: Runtime, camera_id: int) -> LiveInit:
    try:
        return await hub.ready(camera_id, _source(runtime, camera_id), READY_WAIT_S)
    except LiveNotReady as exc:
        raise HTTPException(status.HTTP_503_SERVICE_UNAVAILABLE,
                            f"No live stream from camera {camera_id}: {exc.reason}.",
                            headers={"Retry-After": str(LIVE_RETRY_AFTER_S)}) from None


def _mime(init: LiveInit) -> str:
    return f'{mse.MEDIA_TYPE}; codecs="{init.codecs}"'


@router.get("/{camera_id}/mse/info", response_model=MseInfo)
async def mse_info(camera_id: IdPath, request: Request, engine: EngineDep,
                   runtime: RuntimeDep) -> MseInfo:
    """The live MP4 stream's codecs, size and sound, to check before opening it."""
    await _running_camera(engine, runtime, camera_id)
    init = await _ready(_hubs(request)[0], runtime, camera_id)
    base = request.url.path.removesuffix("/info")
    return MseInfo(camera_id=camera_id, mime=_mime(init), codecs=init.codecs, width=init.width,
                   height=init.height, audio=init.audio, stream=base,
                   detections=base.removesuffix("/mse") + "/detections")


@router.get("/{camera_id}/mse")
async def mse_stream(camera_id: IdPath, request: Request, engine: EngineDep,
                     runtime: RuntimeDep, settings: SettingsDep,
                     principal: CurrentUser) -> LiveStreamResponse:
    """Fragmented MP4 (video/mp4): the init segment, then live fragments from a keyframe."""
    await _running_camera(engine, runtime, camera_id)
    hub = _hubs(request)[0]
    slot = live_hub(request, settings).slots.acquire(principal_key(principal))
    try:
        init = await _ready(hub, runtime, camera_id)
    except BaseException:
        slot.release()
        raise
    body = hub.stream(camera_id, _source(runtime, camera_id))
    return LiveStreamResponse(body, slot, write_timeout_s=settings.live_write_timeout_seconds,
                              media_type=_mime(init),
                              headers={**STREAM_HEADERS, CODECS_HEADER: init.codecs})


@router.get("/{camera_id}/detections")
async def detections(camera_id: IdPath, request: Request, engine: EngineDep,
                     runtime: RuntimeDep, settings: SettingsDep,
                     principal: CurrentUser) -> LiveStreamResponse:
    """Server-sent events of the camera's tracked boxes (labels, track ids, scores, 0–1 boxes)."""
    await _running_camera(engine, runtime, camera_id)
    slot = live_hub(request, settings).slots.acquire(principal_key(principal))
    body = _hubs(request)[1].stream(camera_id, _overlay_fetch(runtime, camera_id))
    return LiveStreamResponse(body, slot, write_timeout_s=settings.live_write_timeout_seconds,
                              media_type=overlays.MEDIA_TYPE, headers=STREAM_HEADERS)
