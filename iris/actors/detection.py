"""A camera's detection loop: motion gate → Detector → tracker → track-mode recorder (no Ray).

Runs on its own thread and always takes the newest frame, so decoding goes on while the
detector answers and no backlog builds. Without a detector (no weights) it records on motion.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import Any, Protocol

import av
import numpy as np

from iris.actors.config import CameraConfig
from iris.actors.live_frames import LatestFrame
from iris.actors.motion import MOTION_NAMES, MotionGate, source_shape
from iris.actors.recorder import RecorderConfig, RecorderEvent, TrackRecorder
from iris.actors.regions import Crop, choose_crop
from iris.actors.tracker import Tracker, TrackerConfig
from iris.models.letterbox import letterbox
from iris.types import Detections
from iris.zones import StationaryWatch, ZoneMonitor, apply_filters

log = logging.getLogger("iris.detection")

RECHECK_DETECTOR_S = 30.0


class DetectorClient(Protocol):
    """What the loop needs from the shared Detector deployment."""

    def info(self) -> dict[str, Any]: ...

    def detect(self, frame: np.ndarray, conf: float, iou: float) -> Detections: ...


def next_detect_at(last: float, wall: float, interval: float) -> float:
    """The slot after a detection ran at `wall`: a fixed cadence from `last`, so frame jitter
    does not round every interval up to the next frame; resynced to `wall` once it fell behind."""
    return last + interval if wall - last < 2 * interval else wall


MOTION_REFERENCE_FPS = 25.0
"""The gate's default learning rate is per frame of a 25 fps stream."""


def motion_learning_rate(interval: float, per_frame: float = 0.05) -> float:
    """The gate runs once per detection interval, not per frame: the same background time
    constant in seconds needs the per-frame rate compounded over the frames in between."""
    frames = max(1.0, interval * MOTION_REFERENCE_FPS)
    return min(1.0, 1.0 - (1.0 - per_frame) ** frames)


def snap_imgsz(imgsz: int) -> int:
    """Detector inputs are multiples of 32."""
    return max(32, int(round(imgsz / 32)) * 32)


EventSink = Callable[[list[RecorderEvent], str], None]
TrackSink = Callable[[float, Detections, list[str], np.ndarray], None]


class DetectionLoop:
    """Feeds frames through motion gating, detection, tracking and the recorder."""

    def __init__(self, config: CameraConfig, frames: LatestFrame,
                 detector: DetectorClient | None, sink: EventSink,
                 on_tracked: TrackSink | None = None) -> None:
        self.config = config
        self.frames = frames
        self.detector = detector
        self.sink = sink
        self.on_tracked = on_tracked
        self.motion = MotionGate(learning_rate=motion_learning_rate(config.detect_interval),
                                 masks=config.motion_masks)
        self.tracker = Tracker(TrackerConfig(min_hits=1))
        self.filters = dict(config.object_filters)
        self.zones = ZoneMonitor(config.zones, config.required_zones)
        self.stationary = StationaryWatch(config.stationary_seconds)
        self.names: list[str] = []
        self.mode = "motion"
        self.reason: str | None = "detector not checked yet"
        self._checked_at = -RECHECK_DETECTOR_S
        self.recorder = self._recorder(("motion",))
        self.gate_enabled = True  # benchmarks switch the motion gate off to measure its saving
        self.detections = 0
        self.skipped_static = 0
        self.frames_seen = 0
        self.frames_dropped = 0  # frames that came and went while the loop was busy
        self.latency_ms = 0.0
        self.cropped = 0  # detections run on a motion region instead of the whole frame
        self.idle = False  # no motion and no open event at the last due frame
        self.analysed_seq = 0  # the newest frame the loop took

    def _recorder(self, triggers: tuple[str, ...]) -> TrackRecorder:
        c = self.config
        return TrackRecorder(RecorderConfig(
            trigger_classes=triggers, min_trigger_frames=c.min_trigger_frames,
            pre_seconds=c.pre_seconds, post_seconds=c.post_seconds,
            trigger_cooldown=c.trigger_cooldown))

    @property
    def state(self) -> str:
        if self.mode == "detector":
            return "ok"
        return f"motion fallback: {self.reason}" if self.reason else "motion"

    def _check_detector(self, now: float) -> None:
        if self.mode == "detector" or now - self._checked_at < RECHECK_DETECTOR_S:
            return
        self._checked_at = now
        if self.detector is None:
            self.reason = "no detector deployment"
            return
        try:
            info = self.detector.info()
        except Exception as exc:  # noqa: BLE001 - keep recording on motion meanwhile
            self.reason = f"detector unreachable: {exc}"
            return
        if not info.get("available"):
            self.reason = info.get("reason") or "detector unavailable"
            return
        if self.recorder.is_open:
            return  # switch once the motion event closed, so one presence is one event
        self.names = list(info.get("names") or [])
        self.mode, self.reason = "detector", None
        self.recorder = self._recorder(self.config.trigger_classes)
        log.info("camera %s: detector available, tracking %s", self.config.camera_id,
                 ",".join(self.config.trigger_classes))

    def run(self, stop: threading.Event) -> None:
        """Loop until `stop` is set; flushes the open event on the way out.

        Sleeps until the next detection is due instead of waking for every frame, and converts
        and analyses only the frames a detection is due on: the motion gate and the detector see
        the same frames. Frames passed over while asleep were not due; only those that came and
        went while a step was busy count as dropped.
        """
        last_seq, last_detect, slept = 0, 0.0, False
        while not stop.is_set():
            now = time.time()
            self._check_detector(now)
            if not self.frames.wait_newer(last_seq, 0.5):
                self._emit(self.recorder.tick(now))
                continue
            seq, wall = self.frames.peek()
            if last_seq and not slept:
                self.frames_dropped += max(0, seq - last_seq - 1)
            last_seq, slept = seq, False
            self.frames_seen += 1
            due_at = last_detect + self.config.detect_interval
            if wall < due_at:
                self._emit(self.recorder.tick(wall))
                # From now, not from the frame: a loop that woke late for it would oversleep.
                stop.wait(min(max(0.0, due_at - time.time()), 0.5))
                slept = True
                continue
            seq, frame, wall = self.frames.latest()
            self.analysed_seq = seq
            if frame is None:
                continue
            try:
                events = self.step(frame, wall, seq)
            except Exception as exc:  # noqa: BLE001 - one bad frame must not end detection
                log.warning("camera %s: detection step failed: %s", self.config.camera_id, exc)
                self.mode, self.reason = "motion", f"detector error: {exc}"
                self._checked_at = time.time()
                self.recorder = self._recorder(("motion",)) if not self.recorder.is_open \
                    else self.recorder
                continue
            last_detect = next_detect_at(last_detect, wall, self.config.detect_interval)
            if events is not None:
                self._emit(events)
        self._emit(self.recorder.flush())

    def step(self, decoded: np.ndarray | av.VideoFrame, now: float,
             seq: int = 0) -> list[RecorderEvent] | None:
        """One due frame; returns recorder events, or None when the motion gate skipped it.

        A decoded frame (frame `seq` of `self.frames`) becomes BGR only past the gate: a still
        scene's frames are never converted whole.
        """
        moving = self.motion.update(decoded, now)
        self.idle = not (moving or self.recorder.is_open)
        if self.mode == "detector":
            if self.gate_enabled and self.idle:
                self.skipped_static += 1
                self._emit(self.recorder.tick(now))
                return None
            return self._detect(self.frames.bgr(seq, decoded), now)
        dets = self.motion.detections() if moving else Detections.empty()
        labels = dets.labels(MOTION_NAMES)
        # Only a frame with motion boxes can become an event's best frame.
        frame = self.frames.bgr(seq, decoded) if len(dets) else None
        height, width = source_shape(decoded)
        # Motion is not an object: masks gate it, required zones only grade it (an alert
        # when a motion box stands in one).
        verdict = self.zones.update(now, dets, labels, width, height)
        self.frames.annotate(dets, labels, verdict.zones)
        return self.recorder.update(now, dets, MOTION_NAMES, frame,
                                    alerting=verdict.in_required, zones=verdict.zones)

    def _detect(self, frame: np.ndarray, now: float) -> list[RecorderEvent]:
        assert self.detector is not None
        size = snap_imgsz(self.config.detect_imgsz)
        crop = self._crop(frame, size) if self.config.detect_crop else None
        image, box = letterbox(frame if crop is None else crop.of(frame), size)
        started = time.perf_counter()
        dets = self.detector.detect(image, self.config.detect_conf, self.config.detect_iou)
        self.latency_ms = (time.perf_counter() - started) * 1000
        self.detections += 1
        dets = dets.from_letterbox(box)
        if crop is not None:
            dets = crop.to_frame(dets)
        width, height = frame.shape[1], frame.shape[0]
        if self.filters:
            dets = apply_filters(dets, dets.labels(self.names), self.filters, width, height)
        tracked = self.tracker.update(dets, now)
        labels = tracked.labels(self.names)
        verdict = self.zones.update(now, tracked, labels, width, height)
        parked = self.stationary.update(now, tracked)
        self.frames.annotate(tracked, labels, verdict.zones)
        # An object triggers once it qualified for a required zone (all do without any) and
        # while it is not parked; a parked one neither holds the event nor opens another.
        events = self.recorder.update(now, tracked, self.names, frame,
                                      eligible=verdict.qualified & ~parked,
                                      alerting=verdict.qualified, zones=verdict.zones)
        if self.on_tracked is not None and len(tracked):
            self.on_tracked(now, tracked, labels, frame)
        return events

    def _crop(self, frame: np.ndarray, size: int) -> Crop | None:
        """The region around motion and live tracks (`iris.actors.regions`); None: all of it."""
        tracks = [t.box for t in self.tracker.tracks(self.names)]
        boxes = np.concatenate([self.motion.boxes(), np.asarray(tracks, np.float32).reshape(-1, 4)])
        crop = choose_crop(boxes, frame.shape[1], frame.shape[0], size)
        self.cropped += crop is not None
        return crop

    def _emit(self, events: list[RecorderEvent]) -> None:
        if events:
            self.sink(events, "track" if self.mode == "detector" else "motion")
