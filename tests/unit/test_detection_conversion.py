"""The detection loop converts a decoded frame to BGR only once the motion gate lets it pass:
a still scene's frames are never converted whole (each conversion of a 720p frame cost about as
much as the rest of the step)."""

from __future__ import annotations

from pathlib import Path

import av

from iris.actors.detection import DetectionLoop
from iris.actors.live_frames import LatestFrame
from tests.unit.test_motion import h264_decoded, scene, with_person
from tests.unit.zones.test_detection_zones import Scripted, config


def feed(loop: DetectionLoop, frames: LatestFrame, decoded: list[av.VideoFrame],
         start: float) -> None:
    for i, frame in enumerate(decoded):
        frames.put(frame, start + i * 0.2)
        seq, latest, wall = frames.latest()
        loop.step(latest, wall, seq)


def test_still_frames_are_not_converted_and_moving_ones_are(tmp_path: Path) -> None:
    frames, detector = LatestFrame(), Scripted()
    loop = DetectionLoop(config(tmp_path), frames, detector, lambda events, _kind: None)
    loop._check_detector(0.0)
    assert loop.mode == "detector" and loop.gate_enabled
    bg = scene(4)
    decoded = h264_decoded([bg] * 10 + [with_person(bg, 300 + 30 * k)[0] for k in range(6)])
    feed(loop, frames, decoded[:10], 1000.0)
    assert loop.skipped_static == 10 and loop.detections == 0
    assert frames.conversions == 0
    feed(loop, frames, decoded[10:], 1002.0)
    assert 5 <= loop.detections <= 6, loop.detections  # the first walker frame may pass as still
    assert frames.conversions == loop.detections
    assert frames.get()[1] is not None  # a viewer reuses the last one
    assert frames.conversions == loop.detections


def test_motion_mode_converts_only_frames_with_motion(tmp_path: Path) -> None:
    frames = LatestFrame()
    loop = DetectionLoop(config(tmp_path), frames, None, lambda events, _kind: None)
    assert loop.mode == "motion"
    bg = scene(4)
    decoded = h264_decoded([bg] * 10 + [with_person(bg, 300 + 30 * k)[0] for k in range(6)])
    feed(loop, frames, decoded[:10], 1000.0)
    assert frames.conversions == 0
    feed(loop, frames, decoded[10:], 1002.0)
    assert 5 <= frames.conversions <= 6, frames.conversions
