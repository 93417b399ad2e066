"""The detection loop applies a camera's zone rules: filters before tracking, required zones
before triggering, parked objects let the event close; the recorder grades and names zones.

A scripted detector stands in for the Detector deployment (frames are the detector's input
size, so its boxes are frame pixels); everything else is the real loop, tracker and recorder.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from iris.actors.config import CameraConfig
from iris.actors.detection import DetectionLoop
from iris.actors.live_frames import LatestFrame
from iris.actors.recorder import EventClosed, EventOpened, RecorderEvent
from iris.sources import SourcePolicy
from iris.types import Detections
from iris.zones import ObjectFilter, Zone

SIZE = 320
DRIVE = Zone("drive", ((0.5, 0.5), (1.0, 0.5), (1.0, 1.0), (0.5, 1.0)))
NAMES = ["person", "car"]


class Scripted:
    """A detector whose answer the test sets before each frame."""

    def __init__(self) -> None:
        self.boxes: list[tuple[float, float, float, float, float, int]] = []

    def info(self) -> dict[str, Any]:
        return {"available": True, "names": NAMES}

    def detect(self, frame: np.ndarray, conf: float, iou: float) -> Detections:
        if not self.boxes:
            return Detections.empty()
        return Detections(xyxy=[b[:4] for b in self.boxes], confidence=[b[4] for b in self.boxes],
                          class_id=[b[5] for b in self.boxes])


def config(tmp_path: Path, **zones: Any) -> CameraConfig:
    return CameraConfig(
        camera_id=1, name="unit", source="rtsp://h/s", source_policy=SourcePolicy(),
        transport="tcp", detect_conf=0.5, detect_iou=0.45, detect_imgsz=SIZE,
        detect_interval=0.0, trigger_classes=("person",), trigger_cooldown=0,
        min_trigger_frames=2, pre_seconds=1, post_seconds=2, faces_enabled=False,
        reid_enabled=False, data_root=tmp_path, database_url="sqlite://", segment_seconds=2,
        segment_retention_seconds=60, live_mjpeg_fps=10, heartbeat_seconds=1,
        serve_app_name="unit", ray_namespace="unit", detect_crop=False, **zones)


class Run:
    def __init__(self, tmp_path: Path, **zones: Any) -> None:
        self.detector = Scripted()
        self.events: list[RecorderEvent] = []
        self.loop = DetectionLoop(config(tmp_path, **zones), LatestFrame(), self.detector,
                                  lambda events, _kind: self.events.extend(events))
        self.loop._check_detector(0.0)
        assert self.loop.mode == "detector"
        self.frame = np.zeros((SIZE, SIZE, 3), np.uint8)
        self.now = 1000.0

    def step(self, *boxes: tuple[float, float, float, float, float, int], dt: float = 0.5
             ) -> None:
        self.detector.boxes = list(boxes)
        self.now += dt
        self.loop.gate_enabled = False  # the black frame never moves: judge detection alone
        result = self.loop.step(self.frame, self.now)
        self.events.extend(result or [])

    def of(self, kind: type) -> list[Any]:
        return [e for e in self.events if isinstance(e, kind)]


def person(x: float, bottom: float, score: float = 0.9) -> tuple[float, float, float, float,
                                                                 float, int]:
    return (x - 15, bottom - 60, x + 15, bottom, score, 0)


def test_without_zones_a_person_triggers_an_alert(tmp_path: Path) -> None:
    run = Run(tmp_path)
    for i in range(3):
        run.step(person(50 + 5 * i, 100))
    opened = run.of(EventOpened)
    assert len(opened) == 1 and opened[0].severity == "alert"


def test_a_person_outside_the_required_zone_never_triggers_and_one_walking_in_does(
    tmp_path: Path
) -> None:
    run = Run(tmp_path, zones=(DRIVE,), required_zones=("drive",))
    for i in range(6):  # walks along the top: never in the drive
        run.step(person(50 + 10 * i, 100))
    assert run.of(EventOpened) == []
    for i in range(12):  # walks down into the drive (bottom right)
        run.step(person(110 + 8 * i, 100 + 10 * i))
    opened = run.of(EventOpened)
    assert len(opened) == 1 and opened[0].severity == "alert" and opened[0].zones == ("drive",)
    for _ in range(6):
        run.step()
    closed = run.of(EventClosed)
    assert len(closed) == 1 and closed[0].zones == ("drive",) and closed[0].severity == "alert"


def test_filtered_detections_never_reach_the_tracker(tmp_path: Path) -> None:
    run = Run(tmp_path, object_filters=(("person", ObjectFilter(min_score=0.8)),))
    for i in range(4):
        run.step(person(50 + 5 * i, 100, score=0.7))
    assert run.of(EventOpened) == [] and run.loop.tracker.tracks(NAMES) == []
    for i in range(3):
        run.step(person(50 + 5 * i, 100, score=0.85))
    assert len(run.of(EventOpened)) == 1


def test_a_parked_person_lets_the_event_close_and_does_not_reopen_it(tmp_path: Path) -> None:
    run = Run(tmp_path, stationary_seconds=5.0)
    for _ in range(30):  # 15 s standing still
        run.step(person(100, 200))
    assert len(run.of(EventOpened)) == 1
    # Stationary after 5 s, so the event closed post_seconds later and nothing reopened.
    assert len(run.of(EventClosed)) == 1
    closed = run.of(EventClosed)[0]
    assert closed.last_seen - closed.first_seen < 6.0
    for i in range(4):  # walks off: triggers again
        run.step(person(140 + 20 * i, 200))
    assert len(run.of(EventOpened)) == 2


def test_an_open_event_reports_each_zone_its_objects_reach(tmp_path: Path) -> None:
    from iris.actors.recorder import EventZonesChanged

    run = Run(tmp_path, zones=(DRIVE,))
    for i in range(16):  # opens on the top left, then walks down into the drive
        run.step(person(110 + 8 * i, 100 + 10 * i))
    opened = run.of(EventOpened)
    assert len(opened) == 1 and opened[0].zones == ()
    assert run.of(EventZonesChanged) == [EventZonesChanged(zones=("drive",), severity="alert")]
