"""/api/cameras: CRUD over cameras; mutations go through `camera_service` (row, then worker)."""

from __future__ import annotations

import time
from typing import Any

from fastapi import APIRouter, Response, status
from fastapi.exceptions import RequestValidationError

from iris.db import cameras as db
from iris.db.tables import Camera
from iris.messages import CameraState
from iris.serve import camera_service
from iris.serve.deps import RootDep, RuntimeDep, SessionDep, SettingsDep
from iris.serve.lookup import get_or_404
from iris.serve.schemas.cameras import (
    CameraCreate,
    CameraPublic,
    CameraStatus,
    CameraUpdate,
    DetectClasses,
    mask_url,
)
from iris.serve.schemas.ids import IdPath
from iris.settings import Settings
from iris.sources import SourcePolicy, SourceRefused, check_source
from iris.status import derive_status

router = APIRouter()

DEFAULT_TRIGGERS = ["person"]


def _public(camera: Camera, states: dict[int, CameraState], settings: Settings) -> CameraPublic:
    derived = derive_status(
        enabled=camera.enabled,
        heartbeat=states.get(camera.id or -1),
        persisted_status=camera.status,
        persisted_last_seen=camera.last_seen,
        stale_seconds=settings.status_stale_seconds,
        now=time.time(),
    )
    data = camera.model_dump()
    data.update(
        rtsp_url=mask_url(camera.rtsp_url),
        status=derived.status,
        last_seen=derived.last_seen,
        fps=derived.fps,
        detector=derived.detector,
        status_reason=derived.reason,
    )
    return CameraPublic.model_validate(data)


def _vet_source(url: str, settings: Settings) -> None:
    """422 naming `rtsp_url` when this server's source policy refuses the URL."""
    try:
        check_source(url, SourcePolicy.from_settings(settings))
    except SourceRefused as exc:
        raise RequestValidationError([{
            "type": "value_error", "loc": ("body", "rtsp_url"), "msg": f"Value error, {exc}",
            "input": mask_url(url),
        }]) from None


@router.get("", response_model=list[CameraPublic])
def list_cameras(session: SessionDep, runtime: RuntimeDep, settings: SettingsDep) -> Any:
    """List all cameras with derived status."""
    states = runtime.worker_states()
    return [_public(c, states, settings) for c in db.list_cameras(session)]


@router.post("", response_model=CameraPublic, status_code=status.HTTP_201_CREATED)
def create_camera(
    body: CameraCreate, session: SessionDep, runtime: RuntimeDep, settings: SettingsDep
) -> Any:
    """Create a camera (starts its worker immediately when enabled)."""
    _vet_source(body.rtsp_url, settings)
    camera = camera_service.create_camera(session=session, runtime=runtime,
                                          fields=body.model_dump())
    return _public(camera, runtime.worker_states(), settings)


@router.get("/detect/classes", response_model=DetectClasses)
def detect_classes(runtime: RuntimeDep) -> Any:
    """Detector's supported COCO classes + the default trigger set."""
    from iris.models.coco import COCO_NAMES

    info = runtime.detector_info()
    classes = info.get("names") or list(COCO_NAMES)
    # Before the first camera the detector is not loaded yet (standby only when its weights are
    # there): the form asks whether the camera it adds will detect.
    standby = info.get("status") == "standby"
    return DetectClasses(
        classes=list(classes),
        default=DEFAULT_TRIGGERS,
        available=bool(info.get("available")) or standby,
        reason=info.get("reason"),
    )


@router.get("/{camera_id}", response_model=CameraPublic)
def get_camera(
    camera_id: IdPath, session: SessionDep, runtime: RuntimeDep, settings: SettingsDep
) -> Any:
    """Fetch one camera."""
    camera = get_or_404(session, Camera, camera_id)
    return _public(camera, runtime.worker_states(), settings)


@router.put("/{camera_id}", response_model=CameraPublic)
def update_camera(
    camera_id: IdPath,
    body: CameraUpdate,
    session: SessionDep,
    runtime: RuntimeDep,
    settings: SettingsDep,
    root: RootDep,
) -> Any:
    """Partial update; restarts the worker on URL or tuning change, purges history on repoint.

    A new URL that differs only in credentials (user info, credential query parameters) is
    the same camera: the worker restarts, its history stays.
    """
    camera = get_or_404(session, Camera, camera_id)
    changes = body.changes(camera)
    if "rtsp_url" in changes:
        _vet_source(changes["rtsp_url"], settings)
    camera_service.update_camera(session=session, runtime=runtime, root=root, camera=camera,
                                 changes=changes)
    return _public(camera, runtime.worker_states(), settings)


@router.delete("/{camera_id}", status_code=status.HTTP_204_NO_CONTENT)
def remove_camera(
    camera_id: IdPath, session: SessionDep, runtime: RuntimeDep, root: RootDep
) -> Response:
    """Delete camera + all derived data."""
    camera = get_or_404(session, Camera, camera_id)
    camera_service.delete_camera(session=session, runtime=runtime, root=root, camera=camera)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.get("/{camera_id}/status", response_model=CameraStatus)
def camera_status(
    camera_id: IdPath, session: SessionDep, runtime: RuntimeDep, settings: SettingsDep
) -> Any:
    """Live status: status, last_seen, fps, detector."""
    camera = get_or_404(session, Camera, camera_id)
    public = _public(camera, runtime.worker_states(), settings)
    return CameraStatus(
        id=camera_id,
        status=public.status,  # type: ignore[arg-type]
        last_seen=public.last_seen,
        fps=public.fps,
        detector=public.detector,
        reason=public.status_reason,
    )
