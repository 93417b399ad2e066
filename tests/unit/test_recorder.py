"""TrackRecorder: one event per presence, trigger streaks, cooldown, best thumbnail."""

from __future__ import annotations

import numpy as np
import pytest

from iris.actors.recorder import (
    EventClosed,
    EventOpened,
    EventUpdated,
    RecorderConfig,
    RecorderEvent,
    TrackRecorder,
)
from iris.types import Detections

NAMES = ["person", "bicycle", "car"]
PERSON, CAR = 0, 2


def seen(*objs: tuple[int, int, float]) -> Detections:
    """Tracked detections from (track_id, class_id, score) triples."""
    if not objs:
        return Detections(np.zeros((0, 4)), np.zeros(0), np.zeros(0), tracker_id=np.zeros(0))
    return Detections(
        xyxy=np.array([[10 * t, 0, 10 * t + 5, 20] for t, _, _ in objs]),
        confidence=np.array([s for _, _, s in objs]),
        class_id=np.array([c for _, c, _ in objs]),
        tracker_id=np.array([t for t, _, _ in objs]),
    )


def feed(rec: TrackRecorder, frames: list[tuple[float, Detections]]) -> list[RecorderEvent]:
    events: list[RecorderEvent] = []
    for now, d in frames:
        events += rec.update(now, d, NAMES, frame=f"frame@{now}")
    return events


def kinds(events: list[RecorderEvent]) -> list[str]:
    return [type(e).__name__ for e in events]


def cfg(**kwargs: object) -> RecorderConfig:
    base: dict[str, object] = {"min_trigger_frames": 3, "pre_seconds": 5, "post_seconds": 10}
    return RecorderConfig(**{**base, **kwargs})  # type: ignore[arg-type]


def test_opens_on_the_nth_consecutive_frame_with_first_seen_from_the_first() -> None:
    rec = TrackRecorder(cfg())
    assert feed(rec, [(100.0, seen((1, PERSON, 0.6))), (100.5, seen((1, PERSON, 0.7)))]) == []
    (opened,) = rec.update(101.0, seen((1, PERSON, 0.8)), NAMES)
    assert isinstance(opened, EventOpened)
    assert (opened.label, opened.first_seen, opened.opened_at, opened.track_id) == (
        "person",
        100.0,
        101.0,
        1,
    )
    assert rec.is_open


@pytest.mark.parametrize(
    ("trigger_classes", "class_id", "opens"),
    [
        ((), PERSON, True),  # empty means person
        ((), CAR, False),
        (("car",), CAR, True),
        (("car",), PERSON, False),
        (("person", "car"), CAR, True),
    ],
)
def test_only_trigger_classes_open_events(
    trigger_classes: tuple[str, ...], class_id: int, opens: bool
) -> None:
    rec = TrackRecorder(cfg(trigger_classes=trigger_classes))
    events = feed(rec, [(t, seen((1, class_id, 0.9))) for t in (0.0, 0.5, 1.0, 1.5)])
    assert ("EventOpened" in kinds(events)) is opens


def test_a_detection_frame_without_the_object_breaks_the_streak() -> None:
    rec = TrackRecorder(cfg())
    frames = [(0.0, seen((1, PERSON, 0.9))), (0.5, seen((1, PERSON, 0.9))), (1.0, seen())]
    frames += [(1.5, seen((1, PERSON, 0.9))), (2.0, seen((1, PERSON, 0.9)))]
    assert feed(rec, frames) == []
    (opened,) = rec.update(2.5, seen((1, PERSON, 0.9)), NAMES)
    assert isinstance(opened, EventOpened) and opened.first_seen == 1.5


def test_ticks_between_detection_frames_do_not_break_the_streak() -> None:
    rec = TrackRecorder(cfg())
    rec.update(0.0, seen((1, PERSON, 0.9)), NAMES)
    assert rec.tick(0.2) == []
    rec.update(0.4, seen((1, PERSON, 0.9)), NAMES)
    assert rec.tick(0.6) == []
    assert kinds(rec.update(0.8, seen((1, PERSON, 0.9)), NAMES)) == ["EventOpened"]


def test_streaks_are_per_track() -> None:
    rec = TrackRecorder(cfg())
    # Two people, each seen for two frames only: nobody has been seen for three in a row.
    frames = [(t, seen((1, PERSON, 0.9))) for t in (0.0, 0.5)]
    frames += [(t, seen((2, PERSON, 0.9))) for t in (1.0, 1.5)]
    assert feed(rec, frames) == []


def test_untracked_detections_count_per_label() -> None:
    rec = TrackRecorder(cfg())
    untracked = Detections(
        xyxy=np.zeros((2, 4)), confidence=np.array([0.5, 0.9]), class_id=np.zeros(2)
    )
    events = [e for t in (0.0, 0.5, 1.0) for e in rec.update(t, untracked, NAMES)]
    (opened,) = events
    assert isinstance(opened, EventOpened) and opened.track_id is None
    assert opened.score == pytest.approx(0.9)


def test_one_event_per_presence_with_the_clip_window() -> None:
    rec = TrackRecorder(cfg(pre_seconds=5, post_seconds=10))
    # Present from t=0 to t=40, with gaps (occlusion, someone else) shorter than post_seconds.
    frames = [(float(t), seen((1, PERSON, 0.9))) for t in range(0, 20)]
    frames += [(float(t), seen()) for t in range(20, 28)]
    frames += [(float(t), seen((7, PERSON, 0.9))) for t in range(28, 41)]
    frames += [(float(t), seen()) for t in range(41, 50)]
    events = feed(rec, frames)
    assert kinds(events) == ["EventOpened"]
    (closed,) = rec.update(50.0, seen(), NAMES)
    assert isinstance(closed, EventClosed)
    assert (closed.first_seen, closed.last_seen) == (0.0, 40.0)
    assert (closed.clip_start, closed.clip_end) == (-5.0, 50.0)
    assert not rec.is_open


def test_ticks_close_the_event_when_the_detector_stops_running() -> None:
    rec = TrackRecorder(cfg(post_seconds=10))
    feed(rec, [(t, seen((1, PERSON, 0.9))) for t in (0.0, 1.0, 2.0)])
    assert rec.tick(11.9) == []
    (closed,) = rec.tick(12.0)
    assert isinstance(closed, EventClosed) and closed.clip_end == 12.0


def test_cooldown_runs_from_the_close() -> None:
    rec = TrackRecorder(cfg(post_seconds=10, trigger_cooldown=30))
    feed(rec, [(t, seen((1, PERSON, 0.9))) for t in (0.0, 1.0, 2.0)])
    (closed,) = rec.tick(12.0)
    assert isinstance(closed, EventClosed)
    # Someone new walks in 20 s after the close: within cooldown, ignored.
    assert feed(rec, [(float(t), seen((2, PERSON, 0.9))) for t in range(32, 36)]) == []
    assert rec.tick(50.0) == []
    # After the cooldown (close at 12 + 30 = 42), the next presence opens an event.
    events = feed(rec, [(float(t), seen((3, PERSON, 0.9))) for t in range(60, 63)])
    assert kinds(events) == ["EventOpened"]


def test_a_presence_already_streaking_opens_right_when_cooldown_ends() -> None:
    rec = TrackRecorder(cfg(post_seconds=1, trigger_cooldown=5))
    feed(rec, [(t, seen((1, PERSON, 0.9))) for t in (0.0, 0.5, 1.0)])
    rec.tick(2.0)  # closed at 2.0; cooldown until 7.0
    events = feed(rec, [(t, seen((2, PERSON, 0.9))) for t in np.arange(3.0, 7.5, 0.5)])
    assert kinds(events) == ["EventOpened"]
    assert isinstance(events[0], EventOpened) and events[0].opened_at == 7.0
    assert events[0].first_seen == 3.0


def test_the_best_detection_is_kept_with_its_frame() -> None:
    rec = TrackRecorder(cfg(min_trigger_frames=1, post_seconds=1))
    events = feed(
        rec,
        [
            (0.0, seen((1, PERSON, 0.5))),
            (0.5, seen((1, PERSON, 0.8), (2, CAR, 0.99))),  # the car does not count
            (1.0, seen((1, PERSON, 0.6))),
            (1.5, seen((4, PERSON, 0.7))),
        ],
    )
    assert kinds(events) == ["EventOpened", "EventUpdated"]
    assert isinstance(events[1], EventUpdated) and events[1].score == pytest.approx(0.8)
    (closed,) = rec.tick(3.0)
    assert isinstance(closed, EventClosed)
    assert closed.score == pytest.approx(0.8)
    assert closed.best_frame == "frame@0.5"
    assert closed.best_box == (10.0, 0.0, 15.0, 20.0)


def test_labels_of_the_event_accumulate() -> None:
    rec = TrackRecorder(cfg(trigger_classes=("person", "car"), min_trigger_frames=1))
    feed(rec, [(0.0, seen((1, PERSON, 0.9))), (1.0, seen((2, CAR, 0.9)))])
    (closed,) = rec.flush()
    assert isinstance(closed, EventClosed)
    assert (closed.label, closed.labels) == ("person", ("person", "car"))
    assert rec.flush() == []


def test_motion_boxes_trigger_with_the_motion_label() -> None:
    from iris.actors.motion import MOTION_NAMES

    rec = TrackRecorder(cfg(trigger_classes=("motion",), min_trigger_frames=2))
    box = Detections(np.array([[0, 0, 10, 10]]), np.array([0.4]), np.zeros(1))
    assert rec.update(0.0, box, MOTION_NAMES) == []
    (opened,) = rec.update(0.2, box, MOTION_NAMES)
    assert isinstance(opened, EventOpened) and opened.label == "motion"


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"min_trigger_frames": 0}, "min_trigger_frames"),
        ({"pre_seconds": -1}, "pre_seconds"),
        ({"post_seconds": -0.5}, "post_seconds"),
        ({"trigger_cooldown": -3}, "trigger_cooldown"),
    ],
)
def test_bad_config_is_rejected(kwargs: dict[str, float], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        RecorderConfig(**kwargs)  # type: ignore[arg-type]
