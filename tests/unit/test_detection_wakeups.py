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
    # Waking for every frame saw nearly all of them; sleeping until due sees one or two a slot.
    assert loop.frames_seen <= put / 2, (loop.frames_seen, put)
    assert loop.frames_dropped <= put // 10, (loop.frames_dropped, put)
