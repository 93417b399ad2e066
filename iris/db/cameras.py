"""The data layer for cameras: list, create, edit, delete, and the status a worker reports.

Plain functions with keyword-only arguments over a `Session` (no Ray), used by the camera routes
(through `iris.serve.camera_service`, which also drives the workers), the WorkerManager's fleet
and the demo. The recursive delete itself is `iris.db.purge.delete_camera`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlmodel import Session, col

from iris.db.purge import delete_camera, purge_camera_events
from iris.db.tables import Camera
from iris.db.types import utcnow
from iris.sources import same_endpoint


@dataclass(frozen=True)
class CameraEdit:
    """What an update changed: the field names, and whether the source moved."""

    changed: frozenset[str]
    url_changed: bool = False
    repointed: bool = False
    """The new URL names another endpoint (not only other credentials): history was purged."""


def list_cameras(session: Session) -> list[Camera]:
    """Every camera, oldest first."""
    return list(session.execute(select(Camera).order_by(col(Camera.id))).scalars())


def camera_ids(session: Session) -> list[int]:
    """Every camera's id, oldest first."""
    return [int(i) for i in session.execute(select(col(Camera.id)).order_by(col(Camera.id)))
            .scalars()]


def camera_named(session: Session, *, name: str) -> Camera | None:
    """The first camera with this name, if any."""
    return session.execute(
        select(Camera).where(col(Camera.name) == name).order_by(col(Camera.id))
    ).scalars().first()


def create_camera(session: Session, *, fields: Mapping[str, Any]) -> Camera:
    """Insert and commit a camera row; returns it with its id."""
    camera = Camera.model_validate(dict(fields))
    session.add(camera)
    session.commit()
    session.refresh(camera)
    return camera


def update_camera(session: Session, *, root: Path, camera: Camera,
                  changes: Mapping[str, Any]) -> CameraEdit:
    """Apply `changes` (only real differences) and commit.

    A new URL that names another endpoint purges the camera's events and their files (it is a
    different camera now); one that differs only in credentials keeps them.
    """
    url = changes.get("rtsp_url")
    edit = CameraEdit(
        changed=frozenset(changes),
        url_changed=url is not None,
        repointed=url is not None and not same_endpoint(camera.rtsp_url, url),
    )
    for key, value in changes.items():
        setattr(camera, key, value)
    if changes:
        camera.updated_at = utcnow()
    assert camera.id is not None
    if edit.repointed:
        purge_camera_events(session, root, camera.id)
    session.add(camera)
    session.commit()
    session.refresh(camera)
    return edit


def disable_camera(session: Session, *, camera: Camera) -> None:
    """Mark the camera disabled and commit (its worker may then be stopped)."""
    camera.enabled = False
    session.add(camera)
    session.commit()


def remove_camera(session: Session, *, root: Path, camera: Camera) -> None:
    """Delete the camera with everything derived from it, and commit (files go after)."""
    delete_camera(session, root, camera)
    session.commit()


def record_status(session: Session, *, camera_id: int, status: str, reason: str | None) -> bool:
    """Persist a worker's reported status (the staleness fallback); False if the row is gone.

    `last_seen` moves only while the camera is online.
    """
    camera = session.get(Camera, camera_id)
    if camera is None:
        return False
    camera.status = status
    camera.status_reason = reason
    if status == "online":
        camera.last_seen = utcnow()
    session.add(camera)
    session.commit()
    return True
