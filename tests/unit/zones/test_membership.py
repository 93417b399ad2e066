"""Zone membership by bottom centre, per-label zones, required zones and loitering."""

from __future__ import annotations

import numpy as np
import pytest

from iris.types import Detections
from iris.zones.membership import Zone, ZoneMonitor

W, H = 1000, 1000
DRIVE = Zone("drive", ((0.0, 0.5), (0.5, 0.5), (0.5, 1.0), (0.0, 1.0)))
PORCH = Zone("porch", ((0.5, 0.5), (1.0, 0.5), (1.0, 1.0), (0.5, 1.0)), loiter_seconds=3.0)
CARS_ONLY = Zone("street", ((0.0, 0.0), (1.0, 0.0), (1.0, 0.5), (0.0, 0.5)), labels=("car",))


def person(x: float, y_bottom: float, track: int | None = 1) -> Detections:
    """A person standing at (x, y_bottom) (pixels), 50 x 150."""
    return Detections(xyxy=[[x - 25, y_bottom - 150, x + 25, y_bottom]], confidence=[0.9],
                      class_id=[0], tracker_id=None if track is None else [track])


def test_in_a_zone_when_the_feet_are() -> None:
    monitor = ZoneMonitor([DRIVE, PORCH])
    # The box reaches into the drive, but the feet stand above it: not in the drive.
    assert monitor.update(0, person(200, 450), ["person"], W, H).zones == [()]
    assert monitor.update(1, person(200, 600), ["person"], W, H).zones == [("drive",)]
    assert monitor.update(2, person(700, 600), ["person"], W, H).zones == [("porch",)]


def test_a_zone_with_labels_ignores_others() -> None:
    monitor = ZoneMonitor([CARS_ONLY])
    assert monitor.update(0, person(200, 300), ["person"], W, H).zones == [()]
    assert monitor.update(0, person(200, 300, 2), ["car"], W, H).zones == [("street",)]


def test_without_required_zones_everything_qualifies() -> None:
    verdict = ZoneMonitor([DRIVE]).update(0, person(200, 300), ["person"], W, H)
    assert verdict.qualified.tolist() == [True] and verdict.in_required.tolist() == [True]


def test_a_required_zone_qualifies_a_track_on_entering_and_it_stays_qualified() -> None:
    monitor = ZoneMonitor([DRIVE, PORCH], required=["drive"])
    assert monitor.update(0, person(200, 300), ["person"], W, H).qualified.tolist() == [False]
    entered = monitor.update(1, person(200, 600), ["person"], W, H)
    assert entered.qualified.tolist() == [True] and entered.in_required.tolist() == [True]
    left = monitor.update(2, person(200, 300), ["person"], W, H)
    assert left.qualified.tolist() == [True] and left.in_required.tolist() == [False]
    # Another track that never entered does not qualify.
    assert monitor.update(3, person(200, 300, 7), ["person"], W, H).qualified.tolist() == [False]


def test_loitering_needs_the_whole_stay() -> None:
    monitor = ZoneMonitor([DRIVE, PORCH], required=["porch"])
    assert not monitor.update(0, person(700, 600), ["person"], W, H).qualified[0]
    assert not monitor.update(2, person(700, 600), ["person"], W, H).qualified[0]
    monitor.update(2.5, person(700, 300), ["person"], W, H)  # stepped out: the clock restarts
    assert not monitor.update(3, person(700, 600), ["person"], W, H).qualified[0]
    assert not monitor.update(5.9, person(700, 600), ["person"], W, H).qualified[0]
    assert monitor.update(6.0, person(700, 600), ["person"], W, H).qualified[0]


def test_untracked_boxes_qualify_only_while_inside() -> None:
    monitor = ZoneMonitor([DRIVE], required=["drive"])
    assert monitor.update(0, person(200, 600, None), ["motion"], W, H).qualified.tolist() == [True]
    assert monitor.update(1, person(200, 300, None), ["motion"], W, H).qualified.tolist() == [False]


def test_required_names_must_be_zones() -> None:
    with pytest.raises(ValueError, match="not zones"):
        ZoneMonitor([DRIVE], required=["garden"])


def test_from_dict_validates_the_polygon() -> None:
    zone = Zone.from_dict({"name": "a", "polygon": [[0, 0], [1, 0], [1, 1]], "labels": ["car"]})
    assert zone.labels == ("car",) and zone.loiter_seconds is None
    with pytest.raises(ValueError, match="3-64 points"):
        Zone.from_dict({"name": "a", "polygon": [[0, 0], [1, 0]]})


def test_empty_frames_are_fine() -> None:
    verdict = ZoneMonitor([DRIVE], required=["drive"]).update(0, Detections.empty(), [], W, H)
    assert verdict.zones == [] and np.asarray(verdict.qualified).shape == (0,)
