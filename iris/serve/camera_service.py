"""A camera's lifecycle: each change of its row, then what its worker and HLS session must do.

The DB row is committed first (iris/db/cameras.py); the runtime then brings the worker in line.
A worker or HLS manager that does not answer never turns a saved change into an error: it is
logged, and the state converges on the next heartbeat or sync (the idle reaper ends HLS).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from sqlmodel import Session

from iris.db import cameras as db
from iris.db.tables import Camera
from iris.serve.errors import ServiceUnavailable
from iris.serve.runtime import Runtime
from iris.serve.schemas.cameras import TUNING_FIELDS

log = logging.getLogger("iris.cameras")


def _sync(runtime: Runtime, camera_id: int) -> None:
    try:
        runtime.sync_camera(camera_id)
    except ServiceUnavailable as exc:  # logged with its cause by the runtime
        log.warning("camera %s: worker not synced: %s", camera_id, exc.detail)


def _stop_hls(runtime: Runtime, camera_id: int) -> None:
    """End the camera's live-with-sound session (disabled, repointed or deleted)."""
    try:
        runtime.hls_close(camera_id)
    except ServiceUnavailable as exc:
        log.warning("camera %s: HLS session not stopped: %s", camera_id, exc.detail)


def create_camera(*, session: Session, runtime: Runtime, fields: Mapping[str, Any]) -> Camera:
    """Save a new camera; start its worker when it is enabled."""
    camera = db.create_camera(session, fields=fields)
    assert camera.id is not None
    if camera.enabled:
        _sync(runtime, camera.id)
    return camera


def update_camera(*, session: Session, runtime: Runtime, root: Path, camera: Camera,
                  changes: Mapping[str, Any]) -> Camera:
    """Save `changes`; restart, start or stop the worker as they require.

    A URL or tuning change restarts the worker (retention does not: the manager applies it),
    `enabled` starts or stops it; a URL change or a disable also ends the HLS session (a new
    endpoint purges history: see `iris.db.cameras.update_camera`).
    """
    edit = db.update_camera(session, root=root, camera=camera, changes=changes)
    assert camera.id is not None
    if edit.changed & (TUNING_FIELDS | {"rtsp_url", "enabled"}):
        _sync(runtime, camera.id)  # the manager has discovery republished too
    elif "name" in edit.changed:
        runtime.notify_cameras_changed()  # Home Assistant shows the new name
    if edit.url_changed or changes.get("enabled") is False:
        _stop_hls(runtime, camera.id)
    return camera


def delete_camera(*, session: Session, runtime: Runtime, root: Path, camera: Camera) -> None:
    """Stop the worker and the HLS session, then delete the camera and all it left."""
    camera_id = camera.id
    assert camera_id is not None
    db.disable_camera(session, camera=camera)
    _sync(runtime, camera_id)  # stops the worker before its files go
    _stop_hls(runtime, camera_id)
    db.remove_camera(session, root=root, camera=camera)
    _sync(runtime, camera_id)  # row gone: the manager forgets the camera
