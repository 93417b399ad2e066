"""Retention on a real SQLite DB and real files: age limits and the data-root size cap."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlmodel import Session, select

from iris.db.engine import make_engine
from iris.db.tables import Camera, Event, Identity, Sighting
from iris.retention import disk_usage, enforce

NOW = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)
MB = 1_000_000


def seed(root: Path, engine, *, days: list[float], clip_mb: float = 1.0,
         retention_days: int = 0) -> int:
    with Session(engine) as session:
        camera = Camera(name="c", rtsp_url="rtsp://h/s", retention_days=retention_days)
        session.add(camera)
        session.flush()
        for index, age in enumerate(days):
            clip = root / "clips" / str(camera.id) / f"e{index}.mp4"
            clip.parent.mkdir(parents=True, exist_ok=True)
            clip.write_bytes(b"\0" * int(clip_mb * MB))
            session.add(Event(camera_id=camera.id, ts=NOW - timedelta(days=age),
                              clip_path=str(clip.relative_to(root))))
        session.commit()
        assert camera.id is not None
        return camera.id


def rows_match_files(root: Path, engine) -> None:
    with Session(engine) as session:
        referenced = {e.clip_path for e in session.execute(select(Event)).scalars()}
    on_disk = {str(p.relative_to(root)) for p in (root / "clips").rglob("*.mp4")}
    assert referenced == on_disk


@pytest.fixture
def store(tmp_path: Path):
    root = tmp_path / "data"
    root.mkdir()
    return root, make_engine(f"sqlite:///{tmp_path / 'iris.db'}")


def test_events_older_than_camera_retention_go_with_their_files(store) -> None:
    root, engine = store
    seed(root, engine, days=[1, 5, 9, 40], retention_days=7)
    seed(root, engine, days=[100], retention_days=0)  # 0 keeps forever
    report = enforce(engine, root, cap_bytes=0, now=NOW)
    assert report.expired_events == 2
    with Session(engine) as session:
        ages = sorted((NOW - e.ts).days for e in session.execute(select(Event)).scalars())
    assert ages == [1, 5, 100]
    rows_match_files(root, engine)


def test_cap_removes_oldest_first_until_under(store) -> None:
    root, engine = store
    seed(root, engine, days=[float(d) for d in range(10)], clip_mb=1.0)
    segments = root / "segments" / "1"
    segments.mkdir(parents=True)
    (segments / "1000-3000.mp4").write_bytes(b"\0" * MB)
    assert disk_usage(root) >= 11 * MB
    cap = int(4.5 * MB)
    report = enforce(engine, root, cap_bytes=cap, now=NOW)
    assert disk_usage(root) <= cap
    assert report.capped_events >= 6
    with Session(engine) as session:
        ages = sorted((NOW - e.ts).days for e in session.execute(select(Event)).scalars())
    assert ages == list(range(len(ages)))  # the newest survive, oldest went first
    rows_match_files(root, engine)


def test_cap_falls_back_to_segments_when_no_event_is_left(store) -> None:
    root, engine = store
    segments = root / "segments" / "3"
    segments.mkdir(parents=True)
    for start in range(5):
        (segments / f"{start * 2000}-{start * 2000 + 2000}.mp4").write_bytes(b"\0" * MB)
    enforce(engine, root, cap_bytes=int(2.5 * MB), now=NOW)
    left = sorted(p.name for p in segments.glob("*.mp4"))
    assert left == ["6000-8000.mp4", "8000-10000.mp4"]


def test_retention_keeps_sightings_of_deleted_events(store) -> None:
    root, engine = store
    camera = seed(root, engine, days=[30], retention_days=7)
    with Session(engine) as session:
        identity = Identity()
        session.add(identity)
        session.flush()
        event_id = session.execute(select(Event.id)).scalars().one()
        session.add(Sighting(identity_id=identity.id, camera_id=camera, ts=NOW, event_id=event_id))
        session.commit()
    enforce(engine, root, cap_bytes=0, now=NOW)
    with Session(engine) as session:
        assert session.execute(select(Sighting)).scalars().one().event_id is None
