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


# ----------------------------------------------------------------------------- what is kept
def fill(path: Path, mb: float) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"\0" * int(mb * MB))
    return path


def event_ages(engine) -> list[float]:
    with Session(engine) as session:
        return sorted((NOW - e.ts).total_seconds() / 3600
                      for e in session.execute(select(Event)).scalars())


def add_event(engine, root: Path, camera_id: int, *, hours: float, clip_mb: float = 1.0,
              in_progress: bool = False, name: str | None = None) -> int:
    name = name or f"h{hours}"
    clip = fill(root / "clips" / str(camera_id) / f"{name}.mp4", clip_mb)
    with Session(engine) as session:
        event = Event(camera_id=camera_id, ts=NOW - timedelta(hours=hours),
                      clip_path=str(clip.relative_to(root)), in_progress=in_progress)
        session.add(event)
        session.commit()
        assert event.id is not None
        return event.id


def test_cap_counts_only_recordings(store) -> None:
    root, engine = store
    seed(root, engine, days=[3, 2, 1], clip_mb=1.0)
    fill(root / "models" / "yolo11n.onnx", 6)
    fill(root / "faces" / "1" / "enrolled.jpg", 1)
    fill(root / "identities" / "7" / "crop.jpg", 1)
    fill(root / "hls" / "1" / "seg00001.ts", 1)
    fill(root / "iris.db-wal", 1)
    report = enforce(engine, root, cap_bytes=int(10 * MB), now=NOW)
    assert report.capped_events == 0 and report.capped_segments == 0
    assert report.usage_bytes == 3 * MB  # the clips; models, faces, crops, HLS, DB not counted
    assert len(event_ages(engine)) == 3
    assert (root / "models" / "yolo11n.onnx").exists()
    assert (root / "faces" / "1" / "enrolled.jpg").exists()
    assert (root / "identities" / "7" / "crop.jpg").exists()


def test_cap_never_deletes_models_faces_or_crops(store) -> None:
    root, engine = store
    seed(root, engine, days=[3, 2, 1], clip_mb=1.0)
    keep = [fill(root / "models" / "m.onnx", 0.3), fill(root / "faces" / "1" / "p.jpg", 0.3),
            fill(root / "identities" / "7" / "crop.jpg", 0.3)]
    report = enforce(engine, root, cap_bytes=int(1.5 * MB), now=NOW)
    assert report.capped_events == 2  # recordings alone go under the cap
    assert disk_usage(root) <= 1.5 * MB
    assert all(path.exists() for path in keep)
    rows_match_files(root, engine)


def test_files_retention_may_not_delete_over_the_cap_log_an_error_and_delete_nothing(
        store, caplog: pytest.LogCaptureFixture) -> None:
    root, engine = store
    seed(root, engine, days=[3, 2, 1], clip_mb=1.0)
    fill(root / "models" / "yolo11n.onnx", 4)
    fill(root / "faces" / "1" / "enrolled.jpg", 0.5)
    with caplog.at_level("ERROR", logger="iris.retention"):
        report = enforce(engine, root, cap_bytes=int(2 * MB), now=NOW)
    assert report.over_cap_unfreeable
    assert report.capped_events == 0 and len(event_ages(engine)) == 3
    errors = [r.getMessage() for r in caplog.records if r.levelname == "ERROR"]
    assert len(errors) == 1
    assert "models" in errors[0] and "deleting nothing" in errors[0]
    assert errors[0].index("models") < errors[0].index("faces")  # biggest first


def test_events_younger_than_the_floor_survive_the_cap(store) -> None:
    root, engine = store
    camera = seed(root, engine, days=[], retention_days=0)
    for hours in (30, 20, 3, 2, 0.5):
        add_event(engine, root, camera, hours=hours)
    report = enforce(engine, root, cap_bytes=int(1 * MB), floor_hours=4, now=NOW)
    assert report.capped_events == 2
    assert event_ages(engine) == [0.5, 2, 3]  # over the cap, but all younger than 4 h
    rows_match_files(root, engine)


def test_events_younger_than_the_floor_survive_their_age_limit(store) -> None:
    root, engine = store
    camera = seed(root, engine, days=[], retention_days=1)
    for hours in (50, 30):
        add_event(engine, root, camera, hours=hours)
    report = enforce(engine, root, cap_bytes=0, floor_hours=36, now=NOW)
    assert report.expired_events == 1
    assert event_ages(engine) == [30]


def test_floor_counts_from_the_end_of_an_event(store) -> None:
    root, engine = store
    camera = seed(root, engine, days=[], retention_days=0)
    long_one = add_event(engine, root, camera, hours=5)
    with Session(engine) as session:
        event = session.get(Event, long_one)
        assert event is not None
        event.end_ts = NOW - timedelta(minutes=10)  # a five-hour presence that just ended
        session.add(event)
        session.commit()
    add_event(engine, root, camera, hours=6)
    enforce(engine, root, cap_bytes=int(0.5 * MB), floor_hours=1, now=NOW)
    assert event_ages(engine) == [5]


def test_open_events_and_the_segments_they_need_are_never_capped(store) -> None:
    root, engine = store
    camera = seed(root, engine, days=[], retention_days=1)
    with Session(engine) as session:
        row = session.get(Camera, camera)
        assert row is not None
        row.pre_seconds = 4
        session.add(row)
        session.commit()
    opened = add_event(engine, root, camera, hours=48, in_progress=True)
    start_ms = int((NOW - timedelta(hours=48)).timestamp() * 1000)
    folder = root / "segments" / str(camera)
    names = [f"{start_ms + offset}-{start_ms + offset + 2000}.mp4"
             for offset in (-10_000, -8_000, -6_000, -4_000, -2_000, 0, 2_000)]
    for name in names:
        fill(folder / name, 1)
    other = root / "segments" / "999"  # another camera, no open event: its segments may go
    fill(other / f"{start_ms}-{start_ms + 2000}.mp4", 1)
    report = enforce(engine, root, cap_bytes=int(1 * MB), now=NOW)
    assert report.expired_events == 0  # 48 h old and over its 1 day, but still recording
    with Session(engine) as session:
        assert session.get(Event, opened) is not None
    # Segments ending after (open event start − pre_seconds) stay; older ones and the other
    # camera's go first.
    left = sorted(p.name for p in folder.glob("*.mp4"))
    assert left == sorted(names[3:])
    assert not list(other.glob("*.mp4"))
    assert report.capped_segments == 4
