"""A box that stays put becomes stationary after the set time; moving again resets it."""

from __future__ import annotations

from iris.types import Detections
from iris.zones.stationary import StationaryWatch


def car(x: float, track: int = 1) -> Detections:
    return Detections(xyxy=[[x, 100, x + 200, 200]], confidence=[0.9], class_id=[2],
                      tracker_id=[track])


def test_parked_car_becomes_stationary_and_moving_again_resets() -> None:
    watch = StationaryWatch(30)
    assert not watch.update(0, car(100))[0]
    assert not watch.update(29, car(102))[0]  # jitter of 2 px is not a move
    assert watch.update(30, car(101))[0]
    assert watch.update(100, car(100))[0]
    assert not watch.update(101, car(160))[0]  # drove off
    assert not watch.update(130, car(160))[0]  # settled 29 s ago
    assert watch.update(131, car(161))[0]


def test_zero_seconds_turns_it_off() -> None:
    watch = StationaryWatch(0)
    assert not watch.update(0, car(100))[0]
    assert not watch.update(1000, car(100))[0]


def test_each_track_has_its_own_clock() -> None:
    watch = StationaryWatch(10)
    watch.update(0, car(100, 1))
    both = Detections.merge([car(100, 1), car(500, 2)])
    assert watch.update(10, both).tolist() == [True, False]


def test_untracked_detections_are_never_stationary() -> None:
    watch = StationaryWatch(1)
    untracked = Detections(xyxy=[[0, 0, 10, 10]], confidence=[1.0], class_id=[0])
    watch.update(0, untracked)
    assert not watch.update(5, untracked)[0]
