"""The detection loop sleeps until a detection is due instead of waking for every frame, and
frames it passed over on purpose are not counted as dropped.

A 25 fps feeder thread stands in for ingest (it paces the frames, it does not synchronise the
test); the detector answers at once, so the loop is never busy and nothing is dropped.
"""

from __future__ import annotations

import dataclasses
import threading
import time
from pathlib import Path

import numpy as np

from iris.actors.detection import DetectionLoop
from iris.actors.live_frames import LatestFrame
from tests.support.wait import wait_for
from tests.unit.zones.test_detection_zones import Scripted, config

FPS = 25
SECONDS = 2.0


def test_the_loop_wakes_per_detection_not_per_frame(tmp_path: Path) -> None:
    frames = LatestFrame()
    loop = DetectionLoop(dataclasses.replace(config(tmp_path), detect_interval=0.2), frames,
                         Scripted(), lambda events, _kind: None)
    loop.gate_enabled = False
    stop = threading.Event()
    runner = threading.Thread(target=loop.run, args=(stop,), daemon=True)
    runner.start()
    image = np.zeros((320, 320, 3), np.uint8)
    started = time.monotonic()
    put = 0
    while (elapsed := time.monotonic() - started) < SECONDS:
        frames.put(image, time.time())
        put += 1
        time.sleep(max(0.0, put / FPS - elapsed))  # the camera's frame rate
    stop.set()
    runner.join(timeout=5)
    assert not runner.is_alive()
    assert loop.detections >= 5, loop.detections  # ~10 due in 2 s at 5 per second
    # Waking for every frame saw nearly all of them. Sleeping until due sees at most three of a
    # slot's five: the one that sent it to sleep, one that came during the sleep, the due one.
    assert loop.frames_seen <= 0.75 * put, (loop.frames_seen, put)
    assert loop.frames_dropped <= put // 10, (loop.frames_dropped, put)


class RecordingStop(threading.Event):
    """The loop's stop event, noting how long each sleep asked for."""

    def __init__(self) -> None:
        super().__init__()
        self.waits: list[float] = []

    def wait(self, timeout: float | None = None) -> bool:
        self.waits.append(float("inf") if timeout is None else timeout)
        return super().wait(timeout)


def test_a_late_frame_sleeps_only_until_the_detection_is_due(tmp_path: Path) -> None:
    """The sleep runs from now: a frame the loop reaches late must not push the detection back
    by however late it was."""
    frames = LatestFrame()
    loop = DetectionLoop(dataclasses.replace(config(tmp_path), detect_interval=0.2), frames,
                         Scripted(), lambda events, _kind: None)
    loop.gate_enabled = False
    stop = RecordingStop()
    runner = threading.Thread(target=loop.run, args=(stop,), daemon=True)
    runner.start()
    image = np.zeros((320, 320, 3), np.uint8)
    first = time.time() - 0.15  # the loop reaches this frame 150 ms after it was decoded
    frames.put(image, first)
    wait_for(lambda: loop.detections == 1, 5.0, 0.005, "the first detection")
    frames.put(image, first + 0.04)  # not due: the next detection is due at first + 0.2
    wait_for(lambda: stop.waits, 5.0, 0.005, "the loop to sleep")
    stop.set()
    runner.join(timeout=5)
    assert not runner.is_alive()
    # Due 50 ms after `first + 0.15` at the latest; measured from the frame it would be 160 ms.
    assert stop.waits[0] <= 0.05 + 1e-6, stop.waits
