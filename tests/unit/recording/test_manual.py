"""Manual recordings: opened at start, their footage kept however long they run (no Ray)."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from sqlmodel import Session, select

from iris.actors.event_store import EventStore
from iris.db.tables import Event, RecordingSegment
from iris.recording.manual import open_manual
from iris.recording.retention import RetentionPolicy, enforce_floor
from tests.unit.recording.conftest import Store


def test_a_started_recording_keeps_its_footage_past_the_live_buffer(tmp_path: Path) -> None:
    store = Store(tmp_path, continuous_days=0)  # events only: a 300 s live buffer
    now = datetime.now(UTC).timestamp()
    started = datetime.fromtimestamp(now - 1200, UTC)  # recording for 20 minutes
    with Session(store.engine) as session:
        event_id = open_manual(session, camera_id=store.camera_id, started_at=started)
        assert open_manual(session, camera_id=store.camera_id, started_at=started) == event_id
        for age in (1500, 1190, 600, 10):
            store.fake_segment(session, now - age, now - age + 6)
    enforce_floor(store.engine, store.root, RetentionPolicy(), now=now)
    with Session(store.engine) as session:
        ages = sorted(round(now - s) for s in session.execute(
            select(RecordingSegment.start)).scalars())
        row = session.get(Event, event_id)
    assert ages == [10, 600, 1190]  # from its start (- 1 s) on; the older one went
    assert row is not None and row.in_progress and row.kind == "manual"
    # The camera's stop finds the row and takes its save once.
    events = EventStore(store.engine, store.camera_id, store.root)
    claim = events.claim_manual(started.timestamp())
    assert (claim.created, claim.event.id) == (False, event_id)
    assert events.claim_saving(event_id, clip_end=now + 1)
    assert not events.claim_saving(event_id, clip_end=now + 2)  # a concurrent stop
