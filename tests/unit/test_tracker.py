"""Tracker: stable ids across frames, ByteTrack-style low-confidence rescue, birth and death."""

from __future__ import annotations

import numpy as np
import pytest

from iris.actors.tracker import Tracker, TrackerConfig
from iris.types import Detections

PERSON, CAR = 0, 2


def dets(*rows: tuple[float, float, float, float, float, int]) -> Detections:
    """Rows of (x1, y1, x2, y2, confidence, class_id)."""
    if not rows:
        return Detections.empty()
    arr = np.array(rows, np.float32)
    return Detections(xyxy=arr[:, :4], confidence=arr[:, 4], class_id=arr[:, 5])


def person(x: float, y: float = 100, conf: float = 0.9, w: float = 50, h: float = 120) -> tuple:
    return (x, y, x + w, y + h, conf, PERSON)


def ids(result: Detections) -> list[int]:
    assert result.tracker_id is not None
    return result.tracker_id.tolist()


def test_a_walking_person_keeps_one_id_once_confirmed() -> None:
    tracker = Tracker(TrackerConfig(min_hits=3))
    seen = [ids(tracker.update(dets(person(100 + 10 * k)), now=0.1 * k)) for k in range(20)]
    assert seen[:2] == [[], []]  # tentative: not reported yet
    assert all(s == [1] for s in seen[2:])


def test_min_hits_one_reports_from_the_first_frame() -> None:
    tracker = Tracker(TrackerConfig(min_hits=1))
    assert ids(tracker.update(dets(person(100)), now=0.0)) == [1]


def test_output_keeps_detection_boxes_and_order() -> None:
    tracker = Tracker(TrackerConfig(min_hits=1))
    frame = dets(person(400), (0, 0, 10, 10, 0.05, PERSON), person(100))
    out = tracker.update(frame, now=0.0)
    assert out.xyxy[:, 0].tolist() == [400, 100]  # the 0.05 box is below low_threshold
    assert ids(out) == [1, 2]


def test_people_crossing_keep_their_ids() -> None:
    tracker = Tracker(TrackerConfig(min_hits=1))
    history: dict[int, list[float]] = {}
    for k in range(30):
        left_to_right = person(100 + 20 * k)
        right_to_left = person(680 - 20 * k, y=110)
        out = tracker.update(dets(left_to_right, right_to_left), now=0.2 * k)
        for tid, x in zip(ids(out), out.xyxy[:, 0].tolist(), strict=True):
            history.setdefault(tid, []).append(x)
    assert sorted(history) == [1, 2]
    assert all(np.diff(history[1]) > 0)  # id 1 only ever moved right
    assert all(np.diff(history[2]) < 0)  # id 2 only ever moved left


def test_fast_mover_at_low_frame_rate_is_followed_by_its_velocity() -> None:
    # Strolling (10 px a frame), then running: 35 px a frame on a 50 px wide box, so the new
    # box overlaps the last one by IoU 0.18 only; the predicted box overlaps it well.
    tracker = Tracker(TrackerConfig(min_hits=1, match_iou=0.3))
    xs = [100 + 10 * k for k in range(5)] + [140 + 35 * k for k in range(1, 11)]
    outs = [ids(tracker.update(dets(person(x)), now=0.5 * k)) for k, x in enumerate(xs)]
    assert all(o == [1] for o in outs)


def test_low_confidence_detection_keeps_a_confirmed_track_alive() -> None:
    tracker = Tracker(TrackerConfig(min_hits=2, high_threshold=0.5, low_threshold=0.1))
    for k in range(3):
        tracker.update(dets(person(100 + 5 * k)), now=0.1 * k)
    # Half hidden: the detector is unsure, but the track keeps the box and its id.
    out = tracker.update(dets(person(115, conf=0.3)), now=0.3)
    assert ids(out) == [1]
    assert out.confidence.tolist() == pytest.approx([0.3])


def test_low_confidence_detections_never_start_tracks() -> None:
    tracker = Tracker(TrackerConfig(min_hits=1))
    for k in range(5):
        assert ids(tracker.update(dets(person(100, conf=0.3)), now=0.1 * k)) == []


def test_a_single_spurious_detection_never_gets_an_id() -> None:
    tracker = Tracker(TrackerConfig(min_hits=2))
    tracker.update(dets(person(100)), now=0.0)
    tracker.update(dets(), now=0.1)  # missed once while tentative: gone
    assert ids(tracker.update(dets(person(100)), now=0.2)) == []
    assert ids(tracker.update(dets(person(100)), now=0.3)) == [1]


@pytest.mark.parametrize(("gap", "same_id"), [(0.5, True), (1.9, True), (2.5, False)])
def test_tracks_survive_short_gaps_and_die_after_max_age(gap: float, same_id: bool) -> None:
    tracker = Tracker(TrackerConfig(min_hits=1, max_age=2.0))
    tracker.update(dets(person(100)), now=0.0)
    tracker.update(dets(person(100)), now=0.1)
    tracker.update(dets(), now=0.1 + gap / 2)
    out = tracker.update(dets(person(100)), now=0.1 + gap)
    assert ids(out) == ([1] if same_id else [2])


def test_classes_never_swap_ids() -> None:
    tracker = Tracker(TrackerConfig(min_hits=1))
    tracker.update(dets(person(100)), now=0.0)
    out = tracker.update(dets((100, 100, 150, 220, 0.9, CAR)), now=0.1)
    assert ids(out) == [2]


def test_ids_are_not_reused_after_reset() -> None:
    tracker = Tracker(TrackerConfig(min_hits=1))
    tracker.update(dets(person(100), person(300)), now=0.0)
    tracker.reset()
    assert ids(tracker.update(dets(person(100)), now=0.1)) == [3]


def test_tracks_are_reported_with_labels() -> None:
    tracker = Tracker(TrackerConfig(min_hits=1))
    tracker.update(dets(person(100)), now=1.0)
    tracker.update(dets(person(110, conf=0.8)), now=1.5)
    (track,) = tracker.tracks(["person", "bicycle", "car"])
    assert (track.track_id, track.label, track.first_seen, track.last_seen) == (
        1,
        "person",
        1.0,
        1.5,
    )
    assert track.box == (110, 100, 160, 220)
    assert track.score == pytest.approx(0.8)


def test_empty_frames_give_empty_tracked_detections() -> None:
    out = Tracker().update(Detections.empty(), now=0.0)
    assert len(out) == 0 and out.tracker_id is not None


@pytest.mark.parametrize(
    "kwargs",
    [
        {"low_threshold": 0.6, "high_threshold": 0.5},
        {"high_threshold": 1.5},
        {"min_hits": 0},
        {"max_age": -1},
    ],
)
def test_bad_config_is_rejected(kwargs: dict[str, float]) -> None:
    with pytest.raises(ValueError):
        TrackerConfig(**kwargs)  # type: ignore[arg-type]
