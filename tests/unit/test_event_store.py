"""A camera's event rows on a real SQLite DB: manual recordings claimed once, orphans dropped."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from sqlmodel import Session, select

from iris.actors.event_store import EventStore
from iris.db.engine import make_engine
from iris.db.tables import Camera, Event

STARTED = 1_795_000_000.123456


@pytest.fixture
def store(tmp_path: Path) -> EventStore:
    root = tmp_path / "data"
    root.mkdir()
    engine = make_engine(f"sqlite:///{tmp_path / 'iris.db'}")
    with Session(engine) as session:
        camera = Camera(name="c", rtsp_url="rtsp://h/s")
        session.add(camera)
        session.commit()
        assert camera.id is not None
        return EventStore(engine, camera.id, root)


def manual_rows(store: EventStore) -> list[Event]:
    with Session(store.engine) as session:
        return list(session.execute(select(Event).where(Event.kind == "manual")).scalars())


def test_a_retried_stop_finds_the_first_recording(store: EventStore) -> None:
    first = store.claim_manual(STARTED)
    again = store.claim_manual(STARTED)
    assert first.created and not again.created
    assert again.event.id == first.event.id
    other = store.claim_manual(STARTED + 1)  # another recording of the same camera
    assert other.created and other.event.id != first.event.id
    assert len(manual_rows(store)) == 2


def test_concurrent_stops_of_one_recording_make_one_row(store: EventStore) -> None:
    stops = 8
    barrier = threading.Barrier(stops)

    def claim(_: int) -> tuple[int | None, bool]:
        barrier.wait()
        result = store.claim_manual(STARTED)
        return result.event.id, result.created

    with ThreadPoolExecutor(stops) as pool:
        results = list(pool.map(claim, range(stops)))
    assert len({event_id for event_id, _ in results}) == 1
    assert sum(created for _, created in results) == 1
    assert len(manual_rows(store)) == 1


def test_finishing_an_event_deleted_meanwhile_drops_its_files(store: EventStore) -> None:
    event_id = store.open(kind="track", label="person", score=0.9, ts=STARTED)
    clip = store.root / "clips" / "1" / f"event-{event_id}.mp4"
    thumb = store.root / "thumbs" / "1" / f"event-{event_id}.jpg"
    for path in (clip, thumb):
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(b"media")
    with Session(store.engine) as session:  # an operator deletes it while it records
        session.delete(session.get(Event, event_id))
        session.commit()
    finished = store.finish(event_id, ts=STARTED, end_ts=STARTED + 5, duration=5.0,
                            clip_path=str(clip.relative_to(store.root)),
                            thumb_path=str(thumb.relative_to(store.root)))
    assert finished is False
    assert not clip.exists() and not thumb.exists()


def test_finish_stores_the_clip_and_keeps_the_best_score(store: EventStore) -> None:
    event_id = store.open(kind="track", label="person", score=0.9, ts=STARTED)
    assert store.finish(event_id, ts=STARTED, end_ts=STARTED + 5, duration=5.0,
                        clip_path="clips/1/a.mp4", thumb_path=None, score=0.5)
    with Session(store.engine) as session:
        event = session.get(Event, event_id)
    assert event is not None and not event.in_progress
    assert event.clip_path == "clips/1/a.mp4" and event.score == 0.9
    assert event.end_ts is not None and event.end_ts.timestamp() == pytest.approx(STARTED + 5)


def test_an_event_keeps_its_zones_severity_and_review_state_through_its_life(
    store: EventStore,
) -> None:
    event_id = store.open(kind="motion", label="motion", score=0.5, ts=1767312000.0,
                          severity="detection")
    store.set_zones(event_id, zones=["drive"], severity="alert")
    with Session(store.engine) as session:
        row = session.get(Event, event_id)
        assert row is not None
        assert (row.zones, row.severity, row.reviewed) == (",drive,", "alert", False)
    store.finish(event_id, ts=1767312000.0, end_ts=1767312005.0, duration=5.0, clip_path=None,
                 thumb_path=None, severity="alert", zones=["drive", "porch"])
    with Session(store.engine) as session:
        row = session.get(Event, event_id)
        assert row is not None and row.zones == ",drive,porch," and row.severity == "alert"
    manual = store.claim_manual(1767312100.0).event
    assert manual.severity == "alert" and manual.reviewed is False
