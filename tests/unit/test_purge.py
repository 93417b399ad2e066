"""Purges on a real SQLite DB and real files: files go only once the delete has committed."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, select

from iris.db.engine import make_engine
from iris.db.purge import delete_camera, delete_events, delete_identities, purge_camera_events
from iris.db.tables import Camera, Event, FaceSample, Identity, Sighting

NOW = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)


class Seeded:
    """One camera with an event (clip + thumbnail), an identity with a crop folder and a face."""

    def __init__(self, root: Path, engine: Engine) -> None:
        with Session(engine) as session:
            camera = Camera(name="c", rtsp_url="rtsp://h/s")
            identity = Identity()
            session.add(camera)
            session.add(identity)
            session.flush()
            assert camera.id is not None and identity.id is not None
            self.camera_id, self.identity_id = camera.id, identity.id
            clip, thumb = f"clips/{camera.id}/event-1.mp4", f"thumbs/{camera.id}/event-1.jpg"
            crop = f"identities/{identity.id}/face.jpg"
            event = Event(camera_id=camera.id, ts=NOW, clip_path=clip, thumb_path=thumb,
                          identity_id=identity.id)
            session.add(event)
            session.flush()
            assert event.id is not None
            self.event_id = event.id
            session.add(Sighting(identity_id=identity.id, camera_id=camera.id, ts=NOW,
                                 event_id=event.id))
            session.add(FaceSample(camera_id=camera.id, identity_id=identity.id, ts=NOW,
                                   crop_path=crop, embedding=b"\0" * 8))
            session.commit()
        self.files = [root / clip, root / thumb, root / crop,
                      root / "segments" / str(self.camera_id) / "1000-3000.mp4"]
        for path in self.files:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(b"media")


Purge = Callable[[Session, Path, Seeded], object]

PURGES: dict[str, Purge] = {
    "events": lambda s, root, seeded: delete_events(s, root, [seeded.event_id]),
    "identities": lambda s, root, seeded: delete_identities(s, root, [seeded.identity_id]),
    "camera": lambda s, root, seeded: delete_camera(s, root, s.get(Camera, seeded.camera_id)),
    "repoint": lambda s, root, seeded: purge_camera_events(s, root, seeded.camera_id),
}
"""Every purge a route or retention calls, each removing at least the event's clip."""


@pytest.fixture
def store(tmp_path: Path) -> tuple[Path, Engine, Seeded]:
    root = tmp_path / "data"
    root.mkdir()
    engine = make_engine(f"sqlite:///{tmp_path / 'iris.db'}")
    return root, engine, Seeded(root, engine)


def fail_at_commit(session: Session) -> None:
    """Make this transaction's COMMIT fail in SQLite itself: a deferred foreign key violation."""
    session.execute(text("PRAGMA defer_foreign_keys = ON"))
    session.add(Sighting(identity_id=987654, camera_id=987654, ts=NOW))
    session.flush()  # accepted now; checked, and refused, at COMMIT


@pytest.mark.parametrize("purge", PURGES.values(), ids=PURGES.keys())
def test_failed_commit_keeps_rows_and_files(store, purge: Purge) -> None:
    root, engine, seeded = store
    with Session(engine) as session:
        purge(session, root, seeded)
        fail_at_commit(session)
        with pytest.raises(IntegrityError):
            session.commit()
        session.rollback()
    assert all(path.exists() for path in seeded.files)
    with Session(engine) as session:
        event = session.get(Event, seeded.event_id)
        assert event is not None and event.clip_path is not None
        assert (root / event.clip_path).is_file()  # the row still points at a file


@pytest.mark.parametrize("purge", PURGES.values(), ids=PURGES.keys())
def test_files_go_once_the_commit_succeeded(store, purge: Purge) -> None:
    root, engine, seeded = store
    clip = seeded.files[0]
    with Session(engine) as session:
        purge(session, root, seeded)
        assert clip.exists()  # nothing is deleted before the commit
        session.commit()
    assert not clip.exists()
    with Session(engine) as session:
        assert session.get(Event, seeded.event_id) is None


def test_a_session_closed_without_commit_deletes_nothing_later(store) -> None:
    root, engine, seeded = store
    with Session(engine) as session:
        delete_events(session, root, [seeded.event_id])
    # The same session object committing other work later must not delete the forgotten files.
    with Session(engine) as session:
        delete_events(session, root, [seeded.event_id])
        session.rollback()
        session.add(Camera(name="other", rtsp_url="rtsp://h/o"))
        session.commit()
    assert all(path.exists() for path in seeded.files)
    with Session(engine) as session:
        assert session.execute(select(Event)).scalars().all()
