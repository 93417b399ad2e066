"""A camera's notices: in order, off its threads, the event as the API shows it, counts and
status on change only, and nothing at all (no thread) when notifications are off."""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np

from iris.actors.event_store import EventStore
from iris.db.engine import make_engine, session_scope
from iris.db.tables import Camera
from iris.live.overlay import OverlayFeed
from iris.notify.camera_notices import CameraNotices, event_loader
from iris.notify.client import NullNotifyClient
from iris.serve.schemas.events import EventPublic
from iris.types import Detections
from tests.support.wait import wait_for


class Recorder:
    """A `NotifyClient` that keeps every call (what the Notifier actor would receive)."""

    def __init__(self, hold: threading.Event | None = None) -> None:
        self.calls: list[tuple[Any, ...]] = []
        self.hold = hold

    def event_changed(self, change: str, before: Any, after: Any) -> None:
        if self.hold is not None:
            self.hold.wait(30)
        self.calls.append(("event", change, before, after))

    def objects(self, camera_id: int, label: str, count: int) -> None:
        self.calls.append(("objects", camera_id, label, count))

    def camera_status(self, camera_id: int, status: str) -> None:
        self.calls.append(("status", camera_id, status))

    def cameras_changed(self) -> None:
        self.calls.append(("cameras",))


def _store(tmp_path: Path) -> EventStore:
    engine = make_engine(f"sqlite:///{tmp_path / 'iris.db'}")
    with session_scope(engine) as session:
        session.add(Camera(name="Drive", rtsp_url="rtsp://a/s"))
    return EventStore(engine, 1, tmp_path)


def test_new_then_end_carry_the_api_view_and_the_previous_one(tmp_path: Path) -> None:
    store = _store(tmp_path)
    client = Recorder()
    notices = CameraNotices(1, client, event_loader(store.engine))
    now = datetime.now(UTC).timestamp()
    event_id = store.open(kind="track", label="person", score=0.8, ts=now, clip_start=now - 1)
    notices.event("new", event_id)
    notices.event("update", event_id)  # nothing changed: no message
    assert notices.drain(10)  # (the rows are read on the notices' thread)
    store.finish(event_id, ts=now, end_ts=now + 3, duration=4.0, clip_path=None,
                 thumb_path=None, clip_start=now - 1, clip_end=now + 3)
    notices.event("end", event_id)
    assert notices.drain(10)
    notices.close()
    assert [call[1] for call in client.calls] == ["new", "end"]
    (_, _, before_new, new), (_, _, before_end, end) = client.calls
    assert before_new is None and new["id"] == event_id and new["in_progress"] is True
    assert before_end == new
    assert end["in_progress"] is False and end["duration"] == 4.0
    # exactly GET /api/events/{id}'s fields, whatever fields that view gains
    assert set(end) == set(EventPublic.model_fields)


def test_a_deleted_event_is_not_announced(tmp_path: Path) -> None:
    store = _store(tmp_path)
    client = Recorder()
    notices = CameraNotices(1, client, event_loader(store.engine))
    event_id = store.open(kind="track", label="person", score=0.8, ts=time.time())
    store.discard(event_id)
    notices.event("new", event_id)
    assert notices.drain(10)
    notices.close()
    assert client.calls == []


def test_a_stuck_notifier_never_holds_the_camera_and_the_queue_stays_bounded(
        tmp_path: Path) -> None:
    store = _store(tmp_path)
    hold = threading.Event()
    client = Recorder(hold)
    notices = CameraNotices(1, client, event_loader(store.engine), queue_size=10)
    event_id = store.open(kind="track", label="person", score=0.8, ts=time.time())
    for _ in range(100):  # every call returns at once although nothing is delivered
        notices.event("new", event_id)
    wait_for(lambda: notices.dropped >= 89, timeout=10, what="the oldest dropped")
    hold.set()
    assert notices.drain(10)
    notices.close()
    assert notices.dropped in (89, 90)  # the first may have been taken before the queue filled


def test_status_and_counts_only_on_change_and_nothing_in_view_when_offline() -> None:
    client = Recorder()
    notices = CameraNotices(3, client, lambda _id: None)
    notices.status("connecting")
    notices.status("online")
    notices.status("online")
    notices.counts({"person": 2})
    notices.counts({"person": 2})
    notices.counts({"person": 1, "car": 1})
    notices.counts({"car": 1})
    notices.status("stopped")  # the ingest's word: offline, and nothing in view
    assert notices.drain(10)
    notices.close()
    assert client.calls == [
        ("status", 3, "connecting"), ("status", 3, "online"),
        ("objects", 3, "person", 2),
        ("objects", 3, "car", 1), ("objects", 3, "person", 1),
        ("objects", 3, "person", 0),
        ("status", 3, "offline"), ("objects", 3, "car", 0),
    ]


def test_counts_follow_the_overlays_the_detection_loop_publishes() -> None:
    client = Recorder()
    notices = CameraNotices(3, client, lambda _id: None)
    feed = OverlayFeed()
    stop = threading.Event()
    notices.watch(feed, stop)

    def boxes(n: int) -> Detections:
        return Detections(xyxy=np.array([[10, 10, 50, 90]] * n, dtype=np.float32),
                          confidence=np.full(n, 0.9, dtype=np.float32),
                          class_id=np.zeros(n, dtype=np.int64))

    feed.publish(boxes(2), ["person", "person"], 640, 360)
    wait_for(lambda: ("objects", 3, "person", 2) in client.calls, timeout=10, what="2 people")
    feed.publish(boxes(0), [], 640, 360)
    wait_for(lambda: ("objects", 3, "person", 0) in client.calls, timeout=10, what="nobody")
    stop.set()
    notices.close()


def test_off_means_no_thread_and_no_reads() -> None:
    reads: list[int] = []
    notices = CameraNotices(1, NullNotifyClient(), lambda event_id: reads.append(event_id))
    notices.event("new", 5)
    notices.status("online")
    notices.watch(OverlayFeed(), threading.Event())
    assert not notices.enabled and notices.drain(0)
    notices.close()
    assert reads == []
