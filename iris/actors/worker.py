"""CameraWorker: one camera's logic, wired by the CameraActor shell (no Ray import).

ingest (reader thread) ──► recording store (remux into indexed segments, continuously)
                      └──► latest frame ──► JPEG on demand (live) / detection loop (thread)
detection loop ──► recorder events ──► event rows: time ranges over the store (+ thumbnails)

Events and manual recordings are ranges over the store: nothing is cut when they close. Their
clips are cut from the store when someone asks (`iris.recording.cache`).
"""

from __future__ import annotations

import logging
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import av
import numpy as np
from sqlmodel import Session

from iris.actors.config import CameraConfig
from iris.actors.detection import DetectionLoop, DetectorClient
from iris.actors.event_store import EventStore
from iris.actors.ingest import IngestOptions, StreamReader
from iris.actors.live_frames import LatestFrame
from iris.actors.recorder import (
    EventClosed,
    EventOpened,
    EventUpdated,
    EventZonesChanged,
    RecorderEvent,
)
from iris.actors.reid import EmbedderClient, IdentityClient, ReidSender
from iris.db.engine import connect
from iris.identity import Assignment
from iris.layout import Layout
from iris.live.fmp4 import LiveMp4
from iris.notify.camera_notices import CameraNotices, event_loader
from iris.notify.client import NotifyClient, NullNotifyClient
from iris.recording.cache import cut_clip
from iris.recording.camera import CameraRecording
from iris.recording.clip import ClipUnavailable
from iris.recording.index import segments_between
from iris.recording.manual import MANUAL_ROLL_S
from iris.recording.segment import Segment
from iris.recording.thumbnails import thumbnail_of_recording, write_thumbnail
from iris.types import Detections

log = logging.getLogger("iris.camera")

#: A stop cuts the segment this long after its end, so the cut surely lies past it.
CUT_SLACK_S = 0.5
#: Longest a manual recording left recording by a crash stays open before it is finished.
MANUAL_MAX_S = 24 * 3600.0
READY_TIMEOUT_S = 120.0
#: A camera counts as watched this long after an MJPEG poll or a snapshot.
WATCHED_S = 5.0


class CameraWorker:
    """Ingest, continuous recording, live frames, detection and events for one camera."""

    def __init__(self, config: CameraConfig, detector: DetectorClient | None = None,
                 embedder: EmbedderClient | None = None,
                 identity: IdentityClient | None = None,
                 notify: NotifyClient | None = None) -> None:
        self.config = config
        cid = config.camera_id
        self.layout = Layout(config.data_root)
        self.engine = connect(config.database_url)
        self.recording = CameraRecording(engine=self.engine, layout=self.layout, camera_id=cid,
                                         segment_seconds=config.segment_seconds)
        self.frames = LatestFrame()
        self.live = LiveMp4()  # fragmented MP4 for live viewers, muxed only while watched
        self.store = EventStore(self.engine, cid, config.data_root)
        # MQTT and webhooks, off the camera's threads (a no-op without a notifier)
        self.notices = CameraNotices(cid, notify or NullNotifyClient(), event_loader(self.engine))
        self.reader = StreamReader(
            IngestOptions(url=config.source, transport=config.transport,
                          policy=config.source_policy, idle_decode=config.idle_decode),
            sink=self, may_reduce=self._may_reduce_decode)
        self._jpeg_asked_at = -float("inf")
        self.reid: ReidSender | None = None
        if config.reid_enabled and embedder is not None and identity is not None:
            self.reid = ReidSender(cid, embedder, identity, config.faces_enabled,
                                   self._on_assigned)
        self.detection = DetectionLoop(config, self.frames, detector, self._on_events,
                                       self._on_tracked if self.reid else None)
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []
        self._event_jobs = ThreadPoolExecutor(max_workers=1, thread_name_prefix="events")
        self._open_event: int | None = None
        self._writer_lock = threading.Lock()
        self._manual_lock = threading.Lock()
        self.events_recorded = 0

    # ------------------------------------------------------------------ lifecycle
    def start(self) -> None:
        self.recording.start()
        self.reader.start()  # footage is written while the store is reconciled
        if not self.recording.wait_ready(READY_TIMEOUT_S):
            log.warning("camera %s: recording store still reconciling", self.config.camera_id)
        self._recover_unfinished()
        self.notices.watch(self.frames.overlays, self._stop)
        thread = threading.Thread(target=self.detection.run, args=(self._stop,),
                                  name="detection", daemon=True)
        thread.start()
        self._threads.append(thread)
        log.info("camera %s (%s): started", self.config.camera_id, self.config.name)

    def stop(self) -> None:
        """Stop ingest, finish the open event with what was recorded, finalise the segment."""
        self._stop.set()
        self.reader.stop()
        self.live.close()
        for thread in self._threads:
            thread.join(timeout=15)
        with self._writer_lock:
            self.recording.close(finalize=True)
        self._event_jobs.shutdown(wait=True)
        self.notices.close()
        self.recording.stop()
        if self.reid is not None:
            self.reid.stop()
        log.info("camera %s (%s): stopped", self.config.camera_id, self.config.name)

    # ------------------------------------------------------------------ IngestSink
    def on_open(self, container_streams: list) -> None:
        with self._writer_lock:
            self.recording.open_streams(container_streams)
        self.live.open_streams(container_streams)

    def on_packet(self, packet: av.Packet) -> None:
        with self._writer_lock:
            self.recording.write(packet, time.time())
        self.live.packet(packet)

    def on_frame(self, frame: av.VideoFrame, wall_time: float) -> None:
        self.frames.put(frame, wall_time)

    def on_status(self, status: str, reason: str | None) -> None:
        if status == "error" and reason:
            self.recording.note_outage(reason)
        self.notices.status(status)
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
        if status == "online" and self.recording.error:
            status, reason = "error", f"recording failed: {self.recording.error}"
        return {
            "status": status,
            "last_seen": last_seen,
            "fps": round(self.reader.fps, 2),
            "detector": self.detection.state,
            "reason": reason,
            "frames_decoded": self.frames.seq,
            "frames_dropped": self.detection.frames_dropped,
            "frames_not_decoded": self.reader.packets_skipped,
            "detections_cropped": self.detection.cropped,
            "detections": self.detection.detections,
            "skipped_static": self.detection.skipped_static,
            "detect_latency_ms": round(self.detection.latency_ms, 1),
            "jpeg_encodes": self.frames.encodes,
            "events": self.events_recorded,
            "reid_sent": self.reid.sent if self.reid else 0,
        }

    # ------------------------------------------------------------------ live
    def latest_jpeg(self, after_seq: int, timeout: float) -> tuple[int, bytes] | None:
        self._jpeg_asked_at = time.monotonic()
        return self.frames.jpeg(after_seq, timeout)

    def _may_reduce_decode(self) -> bool:
        """Idle and unwatched: no motion, no open event, the newest frame analysed, no MJPEG
        poll or snapshot for `WATCHED_S` and no live MP4 session (ingest decodes less)."""
        return (self.detection.idle and self.detection.analysed_seq >= self.frames.seq
                and time.monotonic() - self._jpeg_asked_at > WATCHED_S
                and not self.live.running)

    # ------------------------------------------------------------------ manual recording
    def record_stop(self, started_at: float) -> dict[str, Any]:
        """Save [started_at − 1 s, now + 1 s] as one manual event, whatever its length.

        Idempotent per started_at: the row (opened by record/start, `open_manual`, or here)
        is claimed, so a retried or concurrent stop of the same recording returns the event
        the first stop saved. Stops run one at a time on this camera (they are rare); the
        DB's unique index and the claim of the save cover other processes.
        """
        with self._manual_lock:
            claim = self.store.claim_manual(started_at,
                                            clip_start=started_at - MANUAL_ROLL_S)
            event = claim.event
            assert event.id is not None
            end = time.time() + MANUAL_ROLL_S
            if not event.in_progress:
                if not event.clip_start and not event.clip_path:
                    return {"error": "Nothing recorded in that window."}
                return _manual_result(event.id, event.duration or 0.0)
            if not self.store.claim_saving(event.id, clip_end=end):
                # Left by a camera process that died while saving it; recovery finishes it.
                return {"error": "This recording is still being saved; retry shortly."}
            try:
                return self._save_manual(event.id, started_at, end)
            except BaseException:
                self.store.discard(event.id)  # a retry may try again from scratch
                raise

    def _save_manual(self, event_id: int, started_at: float, end: float) -> dict[str, Any]:
        start = started_at - MANUAL_ROLL_S
        with self._writer_lock:
            self.recording.request_cut(at=end + CUT_SLACK_S)
        self.recording.wait_indexed(
            end, timeout=end - time.time() + 2 * self.config.segment_seconds + 5)
        name = f"event-{event_id}"
        try:
            cut = cut_clip(self.engine, self.layout, camera_id=self.config.camera_id,
                           start=start, end=end, name=name)
        except ClipUnavailable as exc:
            self.store.discard(event_id)
            return {"error": f"Nothing recorded in that window: {exc}"}
        duration = cut.duration or 0.0
        first = self._first_segment(start, end)
        thumb = self._thumbnail(event_id, None, None, first)
        clip_start = max(start, first.start) if first is not None else start
        self.store.finish(event_id, ts=clip_start, end_ts=clip_start + duration,
                          duration=duration, clip_path=None, thumb_path=thumb,
                          clip_start=start, clip_end=end)
        self.events_recorded += 1
        return _manual_result(event_id, duration)

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
            if target == self._open_event:
                self.notices.event("update", target)

    # ------------------------------------------------------------------ detection events
    def _on_events(self, events: list[RecorderEvent], kind: str) -> None:
        for event in events:
            if isinstance(event, EventOpened):
                self._open_event = self.store.open(
                    kind=kind, label=event.label, score=event.score, ts=event.first_seen,
                    clip_start=event.first_seen - self.config.pre_seconds,
                    severity=event.severity, zones=event.zones)
                self.notices.event("new", self._open_event)
                if self.reid is not None:
                    for assignment in self.reid.live_assignments(event.first_seen):
                        self._on_assigned(assignment, self._open_event)
                log.info("camera %s: %s event %s opened", self.config.camera_id, event.label,
                         self._open_event)
            elif isinstance(event, EventClosed) and self._open_event is not None:
                event_id, self._open_event = self._open_event, None
                end = min(event.clip_end, time.time()) if self._stop.is_set() else event.clip_end
                with self._writer_lock:  # its tail is indexed a GOP later
                    self.recording.request_cut(at=end + CUT_SLACK_S)
                if self._stop.is_set():
                    self._finish_event(event_id, event, end)
                else:
                    self._event_jobs.submit(self._finish_event, event_id, event, end)
            elif isinstance(event, EventZonesChanged) and self._open_event is not None:
                self.store.set_zones(self._open_event, zones=event.zones,
                                     severity=event.severity)
                self.notices.event("update", self._open_event)
            elif isinstance(event, EventUpdated):
                continue

    def _finish_event(self, event_id: int, event: EventClosed, end: float) -> None:
        if not self._stop.is_set():
            # Finished means its footage is all in the store: the cut asked for at the close
            # lands a GOP later (a stopping camera has finalised what it has).
            self.recording.wait_indexed(end, timeout=2 * self.config.segment_seconds + 5)
        frame = event.best_frame if isinstance(event.best_frame, np.ndarray) else None
        first = None if frame is not None else self._first_segment(event.clip_start, end)
        thumb = self._thumbnail(event_id, frame, event.best_box, first)
        if not self.store.finish(event_id, ts=event.first_seen, end_ts=event.last_seen,
                                 duration=end - event.clip_start, clip_path=None,
                                 thumb_path=thumb, label=event.label, score=event.score,
                                 clip_start=event.clip_start, clip_end=end,
                                 severity=event.severity, zones=event.zones):
            return
        self.notices.event("end", event_id)
        self.events_recorded += 1
        log.info("camera %s: %s event %s recorded (%.1f s of footage)", self.config.camera_id,
                 event.label, event_id, end - event.clip_start)

    def _first_segment(self, start: float, end: float) -> Segment | None:
        with Session(self.engine) as session:
            found = segments_between(session, layout=self.layout,
                                     camera_id=self.config.camera_id, start=start, end=end)
        return found[0] if found else None

    def _thumbnail(self, event_id: int, frame: np.ndarray | None,
                   box: tuple[float, float, float, float] | None,
                   first: Segment | None) -> str | None:
        """The event's thumbnail (its best detection, else its first recorded frame)."""
        out = self.layout.thumbs(self.config.camera_id) / f"event-{event_id}.jpg"
        try:
            if frame is not None:
                write_thumbnail(frame, box, out)
            elif first is not None:
                thumbnail_of_recording(first.path, out)
            else:
                return None
        except (ClipUnavailable, OSError, ValueError, av.FFmpegError) as exc:
            log.warning("camera %s: event %s has no thumbnail: %s", self.config.camera_id,
                        event_id, exc)
            return None
        return self.layout.relative(out)

    def _recover_unfinished(self) -> None:
        """Events left open by an unclean stop: finished with the footage recorded until it."""
        recorded_until = self.recording.recorded_before_start
        now = time.time()
        for event in self.store.in_progress():
            assert event.id is not None
            start = event.clip_start if event.clip_start is not None \
                else event.ts.timestamp() - self.config.pre_seconds
            if event.kind == "manual" and event.clip_end is None \
                    and now - start < MANUAL_MAX_S:
                continue  # still recording: its stop comes from the operator
            end = event.clip_end if event.clip_end is not None else recorded_until
            if end is None or end <= start:
                self.store.finish(event.id, ts=event.ts.timestamp(),
                                  end_ts=event.ts.timestamp(), duration=0.0, clip_path=None,
                                  thumb_path=None)
                continue
            end = min(end, start + MANUAL_MAX_S) if event.kind == "manual" else end
            thumb = self._thumbnail(event.id, None, None, self._first_segment(start, end))
            self.store.finish(event.id, ts=event.ts.timestamp(), end_ts=end,
                              duration=end - start, clip_path=None, thumb_path=thumb,
                              clip_start=start, clip_end=end)
            self.notices.event("end", event.id)
            log.info("camera %s: recovered event %s after an unclean stop (%.1f s)",
                     self.config.camera_id, event.id, end - start)


def _manual_result(event_id: int, duration: float) -> dict[str, Any]:
    return {"event_id": event_id, "clip": f"/api/events/{event_id}/clip",
            "duration": round(duration, 3)}

