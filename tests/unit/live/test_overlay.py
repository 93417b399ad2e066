"""Tracked boxes for overlays: normalised to the frame, numbered, long-polled."""

from __future__ import annotations

import threading

import numpy as np

from iris.actors.live_frames import LatestFrame
from iris.live.overlay import OverlayFeed
from iris.types import Detections


def tracked(*boxes: tuple[float, float, float, float]) -> Detections:
    return Detections(xyxy=np.array(boxes, np.float32), confidence=[0.9] * len(boxes),
                      class_id=[0] * len(boxes), tracker_id=list(range(7, 7 + len(boxes))))


def test_boxes_are_normalised_to_the_frame_and_clipped() -> None:
    feed = OverlayFeed()
    overlay = feed.publish(tracked((64, 36, 320, 180), (600, -5, 700, 90)), ["person", "car"],
                           640, 360, zones=[("drive", "porch"), ()])
    assert overlay.seq == 1
    data = overlay.as_dict()
    assert data["boxes"] == [
        {"label": "person", "track_id": 7, "score": 0.9, "box": [0.1, 0.1, 0.5, 0.5],
         "zones": ["drive", "porch"]},
        {"label": "car", "track_id": 8, "score": 0.9, "box": [0.9375, 0.0, 1.0, 0.25],
         "zones": []},
    ]


def test_waiting_callers_get_the_next_boxes() -> None:
    feed = OverlayFeed()
    assert feed.wait(0, 0.0) is None  # nothing newer than "none yet"
    got: list[object] = []
    waiter = threading.Thread(target=lambda: got.append(feed.wait(0, 10.0)))
    waiter.start()
    feed.publish(tracked((0, 0, 10, 10)), ["dog"], 100, 100)
    waiter.join(10)
    assert [o.seq for o in got] == [1]  # type: ignore[attr-defined]
    assert feed.wait(5, 0.0) is not None  # a caller ahead of us: the feed restarted


def test_latest_frame_annotations_feed_the_overlay() -> None:
    frames = LatestFrame()
    frames.put(np.zeros((180, 320, 3), np.uint8), 1.0)
    frames.annotate(tracked((32, 18, 160, 90)), ["person"])
    overlay = frames.overlays.wait(0, 0.0)
    assert overlay is not None
    assert overlay.boxes[0].box == (0.1, 0.1, 0.5, 0.5)
