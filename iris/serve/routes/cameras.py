"""/api/cameras: CRUD over cameras; mutations drive the camera's worker via the runtime."""

from __future__ import annotations

import logging
import time
from typing import Any

from fastapi import APIRouter, HTTPException, Response, status
from fastapi.exceptions import RequestValidationError
from sqlmodel import Session, col, select

from iris.db.purge import delete_camera, purge_camera_events
from iris.db.tables import Camera
from iris.db.types import utcnow
from iris.serve.deps import RootDep, RuntimeDep, SessionDep, SettingsDep
from iris.serve.runtime import Runtime
from iris.serve.schemas.cameras import (
    TUNING_FIELDS,
    CameraCreate,
    CameraPublic,
    CameraStatus,
    CameraUpdate,
    DetectClasses,
    is_echo,
    mask_url,
)
from iris.serve.schemas.ids import IdPath
from iris.settings import Settings
from iris.sources import SourcePolicy, SourceRefused, check_source, same_endpoint
from iris.status import derive_status

router = APIRouter()
log = logging.getLogger("iris.cameras")

DEFAULT_TRIGGERS = ["person"]


def _public(camera: Camera, states: dict[int, dict[str, Any]], settings: Settings) -> CameraPublic:
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


def get_camera_or_404(session: Session, camera_id: int) -> Camera:
    """The camera row, or 404 `Camera not found.`."""
    camera = session.get(Camera, camera_id)
    if camera is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, "Camera not found.")
    return camera


def _vet_source(url: str, settings: Settings) -> None:
    """422 naming `rtsp_url` when this server's source policy refuses the URL."""
    try:
        check_source(url, SourcePolicy.from_settings(settings))
    except SourceRefused as exc:
        raise RequestValidationError([{
            "type": "value_error", "loc": ("body", "rtsp_url"), "msg": f"Value error, {exc}",
            "input": mask_url(url),
        }]) from None


def _sync(runtime: Runtime, camera_id: int) -> None:
    # The DB row is already committed: a worker failure must not turn a saved change into a 500.
    try:
        runtime.sync_camera(camera_id)
    except Exception as exc:  # noqa: BLE001 - reported in the log, state converges on heartbeat
        log.warning("camera %s: worker sync failed: %s", camera_id, exc)


def _stop_hls(runtime: Runtime, camera_id: int) -> None:
    """End the camera's live-with-sound session (disabled, repointed or deleted)."""
    try:
        runtime.stop_hls(camera_id)
    except Exception as exc:  # noqa: BLE001 - the idle reaper ends it anyway
        log.warning("camera %s: stopping HLS failed: %s", camera_id, exc)


@router.get("", response_model=list[CameraPublic])
def list_cameras(session: SessionDep, runtime: RuntimeDep, settings: SettingsDep) -> Any:
    """List all cameras with derived status."""
    states = runtime.worker_states()
    cameras = session.execute(select(Camera).order_by(col(Camera.id))).scalars().all()
    return [_public(c, states, settings) for c in cameras]


@router.post("", response_model=CameraPublic, status_code=status.HTTP_201_CREATED)
def create_camera(
    body: CameraCreate, session: SessionDep, runtime: RuntimeDep, settings: SettingsDep
) -> Any:
    """Create a camera (starts its worker immediately when enabled)."""
    _vet_source(body.rtsp_url, settings)
    camera = Camera(**body.model_dump())
    session.add(camera)
    session.commit()
    session.refresh(camera)
    assert camera.id is not None
    if camera.enabled:
        _sync(runtime, camera.id)
    return _public(camera, runtime.worker_states(), settings)


@router.get("/detect/classes", response_model=DetectClasses)
def detect_classes(runtime: RuntimeDep) -> Any:
    """Detector's supported COCO classes + the default trigger set."""
    from iris.models.coco import COCO_NAMES

    info = runtime.detector_info()
    classes = info.get("names") or list(COCO_NAMES)
    return DetectClasses(
        classes=list(classes),
        default=DEFAULT_TRIGGERS,
        available=bool(info.get("available")),
        reason=info.get("reason"),
    )


@router.get("/{camera_id}", response_model=CameraPublic)
def get_camera(
    camera_id: IdPath, session: SessionDep, runtime: RuntimeDep, settings: SettingsDep
) -> Any:
    """Fetch one camera."""
    camera = get_camera_or_404(session, camera_id)
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
    camera = get_camera_or_404(session, camera_id)
    changes = body.model_dump(exclude_unset=True)
    if is_echo(changes.get("rtsp_url")):
        changes.pop("rtsp_url", None)
    changes = {k: v for k, v in changes.items() if v is not None and getattr(camera, k) != v}
    if "rtsp_url" in changes:
        _vet_source(changes["rtsp_url"], settings)
    url_changed = "rtsp_url" in changes
    repointed = url_changed and not same_endpoint(camera.rtsp_url, changes["rtsp_url"])
    needs_sync = bool(changes.keys() & (TUNING_FIELDS | {"rtsp_url", "enabled"}))
    for key, value in changes.items():
        setattr(camera, key, value)
    if changes:
        camera.updated_at = utcnow()
    if repointed:
        purge_camera_events(session, root, camera_id)
    session.add(camera)
    session.commit()
    session.refresh(camera)
    if needs_sync:
        _sync(runtime, camera_id)
    if url_changed or changes.get("enabled") is False:
        _stop_hls(runtime, camera_id)
    return _public(camera, runtime.worker_states(), settings)


@router.delete("/{camera_id}", status_code=status.HTTP_204_NO_CONTENT)
def remove_camera(
    camera_id: IdPath, session: SessionDep, runtime: RuntimeDep, root: RootDep
) -> Response:
    """Delete camera + all derived data."""
    camera = get_camera_or_404(session, camera_id)
    camera.enabled = False
    session.add(camera)
    session.commit()
    _sync(runtime, camera_id)  # stops the worker before its files go
    _stop_hls(runtime, camera_id)
    delete_camera(session, root, camera)
    session.commit()
    _sync(runtime, camera_id)  # row gone: the manager forgets the camera
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.get("/{camera_id}/status", response_model=CameraStatus)
def camera_status(
    camera_id: IdPath, session: SessionDep, runtime: RuntimeDep, settings: SettingsDep
) -> Any:
    """Live status: status, last_seen, fps, detector."""
    camera = get_camera_or_404(session, camera_id)
    public = _public(camera, runtime.worker_states(), settings)
    return CameraStatus(
        id=camera_id,
        status=public.status,  # type: ignore[arg-type]
        last_seen=public.last_seen,
        fps=public.fps,
        detector=public.detector,
        reason=public.status_reason,
    )
