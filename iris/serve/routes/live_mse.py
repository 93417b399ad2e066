"""/api/live: the camera's own video as fragmented MP4 (MSE), and its boxes as server-sent events.

Neither decodes nor encodes anything: the camera remuxes its packets (`iris.live.fmp4`), one
poller per camera fans the same bytes out to every viewer (`iris.serve.mse`,
`iris.serve.overlays`) — in the Serve proxy when the request came through it
(`iris.serve.relay`), else here — and the browser draws the boxes over the video itself.
"""

from __future__ import annotations

from fastapi import APIRouter, HTTPException, Request, status
from sqlalchemy.engine import Engine
from starlette.concurrency import run_in_threadpool

from iris.db.tables import Camera
from iris.live.types import LiveInit, LiveUnavailable
from iris.serve import mse, overlays
from iris.serve.deps import CurrentUser, EngineDep, RuntimeDep, SettingsDep
from iris.serve.errors import CameraNotRunning
from iris.serve.limits import LIVE_RETRY_AFTER_S
from iris.serve.live import LiveStreamResponse
from iris.serve.live_sources import mse_source, overlay_fetch
from iris.serve.lookup import exists_or_404
from iris.serve.mse import MseHub
from iris.serve.overlays import OverlayHub
from iris.serve.relay import RelaySpec, live_response
from iris.serve.runtime import Runtime
from iris.serve.schemas.ids import IdPath
from iris.serve.schemas.live_mse import MseInfo

router = APIRouter()

READY_WAIT_S = 6.0
"""How long opening a stream waits for the camera's init segment."""
STREAM_HEADERS = {"Cache-Control": "no-store", "X-Accel-Buffering": "no"}
CODECS_HEADER = "X-Iris-Codecs"


def _hubs(request: Request) -> tuple[MseHub, OverlayHub]:
    state = request.app.state
    if getattr(state, "mse_hub", None) is None:
        state.mse_hub, state.overlay_hub = MseHub(), OverlayHub()
    return state.mse_hub, state.overlay_hub


async def _running_camera(engine: Engine, runtime: Runtime, camera_id: int) -> None:
    """404 for a missing camera, 409 for one without a worker (disabled)."""
    await run_in_threadpool(exists_or_404, engine, Camera, camera_id)
    if not await run_in_threadpool(runtime.camera_running, camera_id):
        raise CameraNotRunning(camera_id)


async def _ready(runtime: Runtime, camera_id: int) -> LiveInit:
    """The camera's init segment (starting its muxer), or 503 saying why there is none."""
    got = await runtime.live_init(camera_id, READY_WAIT_S)
    if isinstance(got, LiveUnavailable):
        raise HTTPException(status.HTTP_503_SERVICE_UNAVAILABLE,
                            f"No live stream from camera {camera_id}: {got.reason}.",
                            headers={"Retry-After": str(LIVE_RETRY_AFTER_S)})
    return got


def _mime(init: LiveInit) -> str:
    return f'{mse.MEDIA_TYPE}; codecs="{init.codecs}"'


@router.get("/{camera_id}/mse/info", response_model=MseInfo)
async def mse_info(camera_id: IdPath, request: Request, engine: EngineDep,
                   runtime: RuntimeDep) -> MseInfo:
    """The live MP4 stream's codecs, size and sound, to check before opening it."""
    await _running_camera(engine, runtime, camera_id)
    init = await _ready(runtime, camera_id)
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
    init = await _ready(runtime, camera_id)
    hub = _hubs(request)[0]
    return live_response(request, settings, principal,
                         RelaySpec("mse", camera_id, settings.ray_namespace),
                         lambda: hub.stream(camera_id, mse_source(runtime, camera_id)),
                         media_type=_mime(init),
                         headers={**STREAM_HEADERS, CODECS_HEADER: init.codecs})


@router.get("/{camera_id}/detections")
async def detections(camera_id: IdPath, request: Request, engine: EngineDep,
                     runtime: RuntimeDep, settings: SettingsDep,
                     principal: CurrentUser) -> LiveStreamResponse:
    """Server-sent events of the camera's tracked boxes (labels, track ids, scores, 0–1 boxes)."""
    await _running_camera(engine, runtime, camera_id)
    hub = _hubs(request)[1]
    return live_response(request, settings, principal,
                         RelaySpec("overlay", camera_id, settings.ray_namespace),
                         lambda: hub.stream(camera_id, overlay_fetch(runtime, camera_id)),
                         media_type=overlays.MEDIA_TYPE, headers=STREAM_HEADERS)
