"""Retention on a real SQLite DB and real files: every rule of `iris.recording.retention`."""

from __future__ import annotations

import os
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlmodel import Session, select

from iris.db.tables import Event, Identity, RecordingGap, RecordingSegment, Sighting
from iris.recording.index import add_gap
from iris.recording.retention import RetentionPolicy, enforce, enforce_floor
from tests.unit.recording.conftest import Store

NOW = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)
T = NOW.timestamp()
MB = 1_000_000
DAY = 86400
POLICY = RetentionPolicy(floor_hours=1.0, live_buffer_seconds=300, segment_seconds=6)


@pytest.fixture
def store(tmp_path: Path) -> Store:
    return Store(tmp_path, continuous_days=7, retention_days=30)


def footage(store: Store, ages_h: list[float], *, camera_id: int | None = None,
            mb: float = 0.01, length: float = 6.0) -> None:
    """Segments of `length` s whose starts lie `ages_h` hours before NOW."""
    with Session(store.engine) as session:
        for age in ages_h:
            start = T - age * 3600
            store.fake_segment(session, start, start + length, size=int(mb * MB),
                               camera_id=camera_id)


def left(store: Store, camera_id: int | None = None) -> list[float]:
    """Ages (h) of the footage the index still holds, oldest first; files match the rows."""
    camera_id = camera_id or store.camera_id
    with Session(store.engine) as session:
        rows = session.execute(select(RecordingSegment).where(
            RecordingSegment.camera_id == camera_id).order_by(RecordingSegment.start)
        ).scalars().all()
    on_disk = {p.name for p in store.layout.segments(camera_id).glob("*.mp4")}
    assert {Path(r.path).name for r in rows} == on_disk
    return [round((T - r.start) / 3600, 3) for r in rows]


def event(store: Store, *, start_h: float, end_h: float | None, camera_id: int | None = None,
          thumb_mb: float = 0.0, kind: str = "track") -> int:
    """An event whose footage runs from `start_h` to `end_h` hours ago (None: recording)."""
    camera_id = camera_id or store.camera_id
    with Session(store.engine) as session:
        row = Event(camera_id=camera_id, kind=kind, ts=NOW - timedelta(hours=start_h),
                    end_ts=None if end_h is None else NOW - timedelta(hours=end_h),
                    in_progress=end_h is None, clip_start=T - start_h * 3600,
                    clip_end=None if end_h is None else T - end_h * 3600)
        session.add(row)
        session.flush()
        if thumb_mb:
            thumb = store.layout.thumbs(camera_id) / f"event-{row.id}.jpg"
            thumb.parent.mkdir(parents=True, exist_ok=True)
            thumb.write_bytes(b"\0" * int(thumb_mb * MB))
            row.thumb_path = store.layout.relative(thumb)
        session.commit()
        assert row.id is not None
        return row.id


def events(store: Store) -> list[int]:
    with Session(store.engine) as session:
        return sorted(e.id for e in session.execute(select(Event)).scalars() if e.id)


# ----------------------------------------------------------------------------- by age
def test_continuous_footage_expires_after_continuous_days_unless_an_event_needs_it(
        store: Store) -> None:
    footage(store, [24 * 9, 24 * 8 + 1, 24 * 8, 24 * 6, 1])
    kept = event(store, start_h=24 * 8 + 0.01, end_h=24 * 8 - 0.01)  # covers the 8-day one
    report = enforce(store.engine, store.root, POLICY, now=NOW)
    assert report.expired_segments == 2
    assert left(store) == [24 * 8, 24 * 6, 1]
    assert events(store) == [kept]  # 8 days old, kept 30


def test_an_expired_event_takes_its_footage_with_it(store: Store) -> None:
    footage(store, [24 * 40, 24 * 40 - 0.1])
    event(store, start_h=24 * 40 + 0.01, end_h=24 * 40 - 0.2, thumb_mb=0.01)
    report = enforce(store.engine, store.root, POLICY, now=NOW)
    assert (report.expired_events, report.expired_segments) == (1, 2)
    assert left(store) == [] and events(store) == []
    assert not list(store.layout.thumbs(store.camera_id).glob("*"))


def test_an_events_only_camera_keeps_its_live_buffer_and_what_events_need(
        store: Store) -> None:
    camera = store.add_camera(name="events only", continuous_days=0, pre_seconds=5)
    ages = [2.0, 1.5, 1.0, 0.5, 0.2, 0.1, 0.05, 0.02, 0.01]  # hours
    footage(store, ages, camera_id=camera)
    event(store, start_h=1.51, end_h=1.49, camera_id=camera)  # a finished event's range
    event(store, start_h=0.21, end_h=None, camera_id=camera)  # still recording since 12 min
    enforce(store.engine, store.root, POLICY, now=NOW)
    # 2 h and 1 h go; the finished event's range, everything since the open event's start and
    # the last 300 s (the live buffer) stay.
    assert left(store, camera) == [1.5, 0.2, 0.1, 0.05, 0.02, 0.01]


def test_the_live_buffer_is_never_shorter_than_the_pre_roll(store: Store) -> None:
    camera = store.add_camera(name="long pre-roll", continuous_days=0, pre_seconds=120)
    footage(store, [0.05, 0.03, 0.01], camera_id=camera)  # 180 s, 108 s and 36 s old
    short = RetentionPolicy(live_buffer_seconds=30, segment_seconds=6)
    enforce_floor(store.engine, store.root, short, now=T)
    # A 30 s buffer would keep the last one only: an event opening now needs 120 s before it.
    assert left(store, camera) == [0.03, 0.01]


def test_gaps_are_forgotten_with_the_footage_around_them(store: Store) -> None:
    with Session(store.engine) as session:
        for age_days in (40, 20):
            add_gap(session, camera_id=store.camera_id, start=T - age_days * DAY,
                    end=T - age_days * DAY + 60, reason="stream ended")
    enforce(store.engine, store.root, POLICY, now=NOW)
    with Session(store.engine) as session:
        kept = [round((T - g.start) / DAY) for g in session.execute(select(RecordingGap))
                .scalars()]
    assert kept == [20]  # max(continuous 7, events 30) days


def test_retention_keeps_sightings_of_deleted_events(store: Store) -> None:
    doomed = event(store, start_h=24 * 40, end_h=24 * 40 - 0.1)
    with Session(store.engine) as session:
        identity = Identity()
        session.add(identity)
        session.flush()
        session.add(Sighting(identity_id=identity.id, camera_id=store.camera_id, ts=NOW,
                             event_id=doomed))
        session.commit()
    enforce(store.engine, store.root, POLICY, now=NOW)
    with Session(store.engine) as session:
        assert session.execute(select(Sighting)).scalars().one().event_id is None


def test_unread_cached_clips_are_evicted(store: Store) -> None:
    cache = store.layout.clip_cache(store.camera_id)
    cache.mkdir(parents=True)
    old, fresh, partial = (cache / name for name in
                           ("event-1.mp4", "event-2.mp4", "event-3.upto-9.mp4"))
    for path, age in ((old, 25 * 3600), (fresh, 3600), (partial, 900)):
        path.write_bytes(b"clip")
        os.utime(path, (T - age, T - age))
    report = enforce(store.engine, store.root, POLICY, now=NOW)
    assert report.evicted_clips == 2
    assert sorted(p.name for p in cache.iterdir()) == ["event-2.mp4"]


# ----------------------------------------------------------------------------- by size
def fill(path: Path, mb: float) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"\0" * int(mb * MB))
    return path


def test_the_cap_deletes_continuous_footage_oldest_first_before_any_event(
        store: Store) -> None:
    footage(store, [30, 20, 10, 5, 3, 2], mb=1)
    kept = event(store, start_h=30.01, end_h=29.99)  # its footage is the oldest of all
    report = enforce(store.engine, store.root, RetentionPolicy(cap_bytes=int(3.5 * MB)),
                     now=NOW)
    assert report.capped_segments == 3 and report.capped_events == 0
    assert left(store) == [30, 3, 2]  # the event's footage, then the newest
    assert events(store) == [kept]
    assert report.usage_bytes <= 3.5 * MB


def test_then_the_oldest_events_go_with_the_footage_only_they_needed(store: Store) -> None:
    footage(store, [30, 20, 10], mb=1)
    event(store, start_h=30.01, end_h=29.99, thumb_mb=0.1)
    newer = event(store, start_h=10.01, end_h=9.99, thumb_mb=0.1)
    report = enforce(store.engine, store.root, RetentionPolicy(cap_bytes=int(1.5 * MB)),
                     now=NOW)
    assert events(store) == [newer]
    assert left(store) == [10]
    assert report.capped_events == 1 and report.capped_segments == 2


def test_the_cap_first_drops_the_clip_cache(store: Store) -> None:
    footage(store, [30, 20], mb=1)
    cached = fill(store.layout.clip_cache(store.camera_id) / "range-1-2.mp4", 1)
    enforce(store.engine, store.root, RetentionPolicy(cap_bytes=int(2.5 * MB)), now=NOW)
    assert not cached.exists() and left(store) == [30, 20]


def test_the_cap_counts_and_deletes_only_recordings(store: Store) -> None:
    footage(store, [3, 2, 1], mb=1)
    keep = [fill(store.root / "models" / "yolo11n.onnx", 0.2),
            fill(store.root / "faces" / "1" / "enrolled.jpg", 0.2),
            fill(store.root / "identities" / "7" / "crop.jpg", 0.2),
            fill(store.root / "hls" / "1" / "seg00001.ts", 0.2),
            fill(store.root / "iris.db-wal", 0.2)]
    report = enforce(store.engine, store.root, RetentionPolicy(cap_bytes=int(10 * MB)),
                     now=NOW)
    assert report.capped_segments == 0 and report.usage_bytes == 3 * MB
    report = enforce(store.engine, store.root, RetentionPolicy(cap_bytes=int(1.5 * MB)),
                     now=NOW)
    assert report.capped_segments == 2 and left(store) == [1]
    assert all(path.exists() for path in keep)


def test_files_retention_may_not_delete_over_the_cap_log_an_error_and_the_cap_deletes_nothing(
        store: Store, caplog: pytest.LogCaptureFixture) -> None:
    footage(store, [3, 2, 1], mb=1)
    fill(store.root / "models" / "yolo11n.onnx", 4)
    fill(store.root / "faces" / "1" / "enrolled.jpg", 0.5)
    with caplog.at_level("ERROR", logger="iris.retention"):
        report = enforce(store.engine, store.root, RetentionPolicy(cap_bytes=int(2 * MB)),
                         now=NOW)
    assert report.over_cap_unfreeable and report.capped_segments == 0
    assert left(store) == [3, 2, 1]
    errors = [r.getMessage() for r in caplog.records if r.levelname == "ERROR"]
    assert len(errors) == 1 and "the cap deletes nothing" in errors[0]
    assert errors[0].index("models") < errors[0].index("faces")  # biggest first


def test_recording_events_and_their_footage_are_never_deleted_for_space(store: Store) -> None:
    footage(store, [48, 47.99, 30, 20], mb=1)
    opened = event(store, start_h=48.001, end_h=None)  # recording for two days now
    report = enforce(store.engine, store.root, RetentionPolicy(cap_bytes=1), now=NOW)
    assert events(store) == [opened] and left(store) == [48, 47.99, 30, 20]
    assert report.capped_segments == 0


def test_footage_and_events_younger_than_the_floor_survive_the_cap(store: Store) -> None:
    footage(store, [30, 3, 0.5], mb=1)
    young = event(store, start_h=2.01, end_h=1.99)
    long_one = event(store, start_h=5, end_h=0.2)  # a five-hour presence that just ended
    enforce(store.engine, store.root, RetentionPolicy(cap_bytes=1, floor_hours=4), now=NOW)
    assert left(store) == [3, 0.5]  # 30 h went; younger than 4 h stays
    assert events(store) == [young, long_one]  # the floor counts from an event's end


def test_the_free_disk_floor_deletes_the_oldest_recordings(store: Store) -> None:
    footage(store, [30, 20, 10, 0.5], mb=1)
    event(store, start_h=20.01, end_h=19.99)
    # A floor no disk can meet: everything that may go, goes (oldest continuous first).
    floor = RetentionPolicy(min_free_gb=1e9, floor_hours=1)
    expired, spaced = enforce_floor(store.engine, store.root, floor, now=T)
    assert (expired, spaced) == (0, 3)
    assert left(store) == [0.5] and events(store) == []
