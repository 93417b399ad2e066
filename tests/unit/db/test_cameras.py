"""`iris.db.cameras`: what an edit changed, repoint purges, and a worker's persisted status."""

from __future__ import annotations

from pathlib import Path

from sqlmodel import Session

from iris.db import cameras
from iris.db.tables import Camera, Event
from tests.support.factories import camera_row, event_row


def _camera(session: Session, root: Path) -> Camera:
    camera = camera_row(session, rtsp_url="rtsp://u:p@192.0.2.1/s")
    assert camera.id is not None
    event_row(session, camera_id=camera.id, clip_path=f"clips/{camera.id}/a.mp4")
    (root / "clips" / str(camera.id)).mkdir(parents=True)
    (root / "clips" / str(camera.id) / "a.mp4").write_bytes(b"mp4")
    session.commit()
    return camera


def test_an_edit_says_what_changed_and_a_repoint_purges_events(
    session: Session, root: Path
) -> None:
    camera = _camera(session, root)
    edit = cameras.update_camera(session, root=root, camera=camera,
                                 changes={"rtsp_url": "rtsp://x:y@192.0.2.1/s", "name": "Gate"})
    assert edit.changed == {"rtsp_url", "name"}
    assert (edit.url_changed, edit.repointed) == (True, False)
    assert session.query(Event).count() == 1
    edit = cameras.update_camera(session, root=root, camera=camera,
                                 changes={"rtsp_url": "rtsp://x:y@192.0.2.2/s"})
    assert (edit.url_changed, edit.repointed) == (True, True)
    assert session.query(Event).count() == 0
    assert not (root / "clips" / str(camera.id) / "a.mp4").exists()
    assert cameras.update_camera(session, root=root, camera=camera, changes={}).changed == set()


def test_remove_deletes_the_camera_with_its_media(session: Session, root: Path) -> None:
    camera = _camera(session, root)
    cameras.remove_camera(session, root=root, camera=camera)
    assert cameras.list_cameras(session) == []
    assert not (root / "clips" / str(camera.id)).exists()


def test_record_status_moves_last_seen_only_while_online(session: Session) -> None:
    camera = camera_row(session)
    session.commit()
    assert camera.id is not None and camera.last_seen is None
    assert cameras.record_status(session, camera_id=camera.id, status="error", reason="refused")
    session.refresh(camera)
    assert (camera.status, camera.status_reason, camera.last_seen) == ("error", "refused", None)
    assert cameras.record_status(session, camera_id=camera.id, status="online", reason=None)
    session.refresh(camera)
    assert camera.status == "online" and camera.last_seen is not None
    assert not cameras.record_status(session, camera_id=999, status="online", reason=None)


def test_create_find_and_list(session: Session) -> None:
    made = cameras.create_camera(session, fields={"name": "Demo", "rtsp_url": "file:///d.mp4"})
    assert made.id is not None
    assert cameras.camera_named(session, name="Demo") == made
    assert cameras.camera_named(session, name="Other") is None
    assert cameras.camera_ids(session) == [made.id]
