"""CameraWorker: one camera's logic, wired by the CameraActor shell (no Ray import).

ingest (reader thread) ──► segment writer (remux, no transcode) ──► segment ring buffer
                      └──► latest frame ──► JPEG on demand (live) / detection loop (thread)
detection loop ──► recorder events ──► event rows + clips cut from the buffer (clip thread)
"""

from __future__ import annotations

import logging
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import av
import numpy as np

from iris.actors.clips import ClipMaker
from iris.actors.config import CameraConfig
from iris.actors.detection import DetectionLoop, DetectorClient
from iris.actors.event_store import EventStore
from iris.actors.ingest import IngestOptions, StreamReader
from iris.actors.live_frames import LatestFrame
from iris.actors.recorder import EventClosed, EventOpened, EventUpdated, RecorderEvent
from iris.actors.reid import EmbedderClient, IdentityClient, ReidSender
from iris.actors.segments import ClipUnavailable, SegmentBuffer, SegmentWriter
from iris.db.engine import make_engine
from iris.identity import Assignment
from iris.types import Detections

log = logging.getLogger("iris.camera")

HOUSEKEEPING_S = 5.0
RECOVER_MAX_SPAN_S = 600.0


class CameraWorker:
    """Ingest, segments, live frames, detection and recording for one camera."""

    def __init__(self, config: CameraConfig, detector: DetectorClient | None = None,
                 embedder: EmbedderClient | None = None,
                 identity: IdentityClient | None = None) -> None:
        self.config = config
        root, cid = config.data_root, config.camera_id
        self.buffer = SegmentBuffer(root / "segments" / str(cid), config.segment_retention_seconds)
        self.clips = ClipMaker(root, cid, self.buffer)
        self.writer = SegmentWriter(root / "segments" / str(cid), config.segment_seconds,
                                    on_segment=self.clips.segment_done)
        self.frames = LatestFrame()
        self.store = EventStore(make_engine(config.database_url), cid, root)
        self.reader = StreamReader(
            IngestOptions(url=config.source, transport=config.transport,
                          policy=config.source_policy), sink=self)
        self.reid: ReidSender | None = None
        if config.reid_enabled and embedder is not None and identity is not None:
            self.reid = ReidSender(cid, embedder, identity, config.faces_enabled,
                                   self._on_assigned)
        self.detection = DetectionLoop(config, self.frames, detector, self._on_events,
                                       self._on_tracked if self.reid else None)
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []
        self._clip_jobs = ThreadPoolExecutor(max_workers=1, thread_name_prefix="clips")
        self._open_event: int | None = None
        self._writer_lock = threading.Lock()
        self._manual_lock = threading.Lock()
        self.events_recorded = 0

    # ------------------------------------------------------------------ lifecycle
    def start(self) -> None:
        self.buffer.discard_partials()
        self._recover_unfinished()
        self.reader.start()
        loops = ((self._detect_loop, "detection"), (self._housekeeping, "housekeeping"))
        for target, name in loops:
            thread = threading.Thread(target=target, name=name, daemon=True)
            thread.start()
            self._threads.append(thread)
        log.info("camera %s (%s): started", self.config.camera_id, self.config.name)

    def stop(self) -> None:
        """Stop ingest, finish the open event with what was recorded, finalise the segment."""
        self._stop.set()
        self.reader.stop()
        for thread in self._threads:
            thread.join(timeout=15)
        with self._writer_lock:
            self.writer.close(finalize=True)
        self._clip_jobs.shutdown(wait=True)
        if self.reid is not None:
            self.reid.stop()
        log.info("camera %s (%s): stopped", self.config.camera_id, self.config.name)

    # ------------------------------------------------------------------ IngestSink
    def on_open(self, container_streams: list) -> None:
        with self._writer_lock:
            self.writer.open_streams(container_streams)

    def on_packet(self, packet: av.Packet) -> None:
        with self._writer_lock:
            self.writer.write(packet, time.time())

    def on_frame(self, frame: av.VideoFrame, wall_time: float) -> None:
        self.frames.put(frame, wall_time)

    def on_status(self, status: str, reason: str | None) -> None:
        log.info("camera %s: %s%s", self.config.camera_id, status,
                 f" ({reason})" if reason else "")

    # ------------------------------------------------------------------ state
    def state(self) -> dict[str, Any]:
        status = self.reader.status
        if status == "stopped":
            status = "offline"
        reason = self.reader.last_error if status == "error" else None
        _, last_frame = self.frames.peek()
        last_seen = last_frame if status == "online" and last_frame else time.time()
        if status == "online" and self.writer.error:
            status, reason = "error", f"recording failed: {self.writer.error}"
        return {
            "status": status,
            "last_seen": last_seen,
            "fps": round(self.reader.fps, 2),
            "detector": self.detection.state,
            "reason": reason,
            "frames_decoded": self.frames.seq,
            "frames_dropped": self.detection.frames_dropped,
            "detections": self.detection.detections,
            "skipped_static": self.detection.skipped_static,
            "detect_latency_ms": round(self.detection.latency_ms, 1),
            "jpeg_encodes": self.frames.encodes,
            "events": self.events_recorded,
            "reid_sent": self.reid.sent if self.reid else 0,
        }

    # ------------------------------------------------------------------ live
    def latest_jpeg(self, after_seq: int, timeout: float) -> tuple[int, bytes] | None:
        return self.frames.jpeg(after_seq, timeout)

    # ------------------------------------------------------------------ manual recording
    def record_stop(self, started_at: float) -> dict[str, Any]:
        """Clip [started_at − 1 s, now + 1 s] (bounded by retention) as one manual event.

        Idempotent per started_at: the event row is claimed first, so a retried or concurrent
        stop of the same recording returns the event the first stop saved. Stops run one at a
        time on this camera (they are rare); the DB's unique index covers other processes.
        """
        with self._manual_lock:
            claim = self.store.claim_manual(started_at)
            event = claim.event
            assert event.id is not None
            if not claim.created:
                if event.in_progress:  # left by a camera process that died while saving it
                    return {"error": "This recording is still being saved; retry shortly."}
                if not event.clip_path:
                    return {"error": "Nothing recorded in that window."}
                return _manual_result(event.id, event.duration or 0.0)
            try:
                return self._save_manual(event.id, started_at)
            except BaseException:
                self.store.discard(event.id)  # a retry may try again from scratch
                raise

    def _save_manual(self, event_id: int, started_at: float) -> dict[str, Any]:
        now = time.time()
        start = max(started_at - 1.0, now - self.config.segment_retention_seconds)
        end = now + 1.0
        self.clips.wait_covered(end, timeout=2 * self.config.segment_seconds + 5)
        try:
            files = self.clips.make(f"event-{event_id}", start, end)
        except ClipUnavailable as exc:
            self.store.discard(event_id)
            return {"error": f"Nothing recorded in that window: {exc}"}
        self.store.finish(event_id, ts=files.start, end_ts=files.start + files.duration,
                          duration=files.duration, clip_path=files.clip_path,
                          thumb_path=files.thumb_path)
        self.events_recorded += 1
        return _manual_result(event_id, files.duration)

    # ------------------------------------------------------------------ identities
    def _on_tracked(self, now: float, tracked: Detections, labels: list[str],
                    frame: np.ndarray) -> None:
        assert self.reid is not None
        self.reid.observe(now, tracked, labels, frame, self._open_event)

    def _on_assigned(self, assignment: Assignment, event_id: int | None) -> None:
        # A track's first crop often precedes the event it triggers: link the open one too.
        for target in {event_id, self._open_event} - {None}:
            assert target is not None
            self.store.link(target, identity_id=assignment.identity_id,
                            person_id=assignment.person_id)

    # ------------------------------------------------------------------ detection events
    def _detect_loop(self) -> None:
        self.detection.run(self._stop)

    def _on_events(self, events: list[RecorderEvent], kind: str) -> None:
        for event in events:
            if isinstance(event, EventOpened):
                self._open_event = self.store.open(kind=kind, label=event.label,
                                                   score=event.score, ts=event.first_seen)
                if self.reid is not None:
                    for assignment in self.reid.live_assignments(event.first_seen):
                        self._on_assigned(assignment, self._open_event)
                log.info("camera %s: %s event %s opened", self.config.camera_id, event.label,
                         self._open_event)
            elif isinstance(event, EventClosed) and self._open_event is not None:
                event_id, self._open_event = self._open_event, None
                if self._stop.is_set():
                    self._finish_event(event_id, event, wait=False)
                else:
                    self._clip_jobs.submit(self._finish_event, event_id, event, True)
            elif isinstance(event, EventUpdated):
                continue

    def _finish_event(self, event_id: int, event: EventClosed, wait: bool) -> None:
        end = event.clip_end if wait else min(event.clip_end, time.time())
        if wait:
            self.clips.wait_covered(end, timeout=2 * self.config.segment_seconds + 10)
        frame = event.best_frame if isinstance(event.best_frame, np.ndarray) else None
        try:
            files = self.clips.make(f"event-{event_id}", event.clip_start, end, frame,
                                    event.best_box)
        except (ClipUnavailable, OSError, ValueError) as exc:
            log.warning("camera %s: event %s has no clip: %s", self.config.camera_id,
                        event_id, exc)
            self.store.finish(event_id, ts=event.first_seen, end_ts=event.last_seen,
                              duration=event.last_seen - event.first_seen, clip_path=None,
                              thumb_path=None, label=event.label, score=event.score)
            return
        if not self.store.finish(event_id, ts=event.first_seen, end_ts=event.last_seen,
                                 duration=files.duration, clip_path=files.clip_path,
                                 thumb_path=files.thumb_path, label=event.label,
                                 score=event.score):
            return
        self.events_recorded += 1
        log.info("camera %s: %s event %s recorded (%.1fs clip)", self.config.camera_id,
                 event.label, event_id, files.duration)

    def _recover_unfinished(self) -> None:
        """Events left open by a crash: finish them with whatever the buffer still holds."""
        for event in self.store.in_progress():
            assert event.id is not None
            start = event.ts.timestamp() - self.config.pre_seconds
            segments = self.buffer.covering(start, start + RECOVER_MAX_SPAN_S)
            if not segments:
                self.store.finish(event.id, ts=event.ts.timestamp(), end_ts=event.ts.timestamp(),
                                  duration=0.0, clip_path=None, thumb_path=None)
                continue
            end = min(segments[-1].end, start + RECOVER_MAX_SPAN_S)
            try:
                files = self.clips.make(f"event-{event.id}", start, end)
            except (ClipUnavailable, OSError, ValueError):
                self.store.mark_finished(event.id)
                continue
            self.store.finish(event.id, ts=event.ts.timestamp(), end_ts=end,
                              duration=files.duration, clip_path=files.clip_path,
                              thumb_path=files.thumb_path)
            log.info("camera %s: recovered event %s after an unclean stop",
                     self.config.camera_id, event.id)

    # ------------------------------------------------------------------ housekeeping
    def _housekeeping(self) -> None:
        while not self._stop.wait(HOUSEKEEPING_S):
            try:
                self.buffer.prune()
            except OSError as exc:
                log.warning("camera %s: pruning segments failed: %s", self.config.camera_id, exc)


def _manual_result(event_id: int, duration: float) -> dict[str, Any]:
    return {"event_id": event_id, "clip": f"/api/events/{event_id}/clip",
            "duration": round(duration, 3)}
