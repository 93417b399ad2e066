"""One camera's side of the recording store: writer → index, gaps, coverage waits (no Ray).

The writer runs on the camera's reader thread; finished segments go through a queue to an
index thread, so a slow database never stalls ingest. That thread first reconciles the
camera's folder with the index (crash recovery), then indexes each segment in order and records
a gap wherever footage does not follow on from the last, with the cause noted before it.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections.abc import Callable

import av
from sqlalchemy.engine import Engine
from sqlalchemy.exc import OperationalError
from sqlmodel import Session

from iris.layout import Layout
from iris.recording.index import CONTIGUOUS_S, add_gap, add_segment, last_end
from iris.recording.reconcile import reconcile_camera
from iris.recording.segment import Segment
from iris.recording.writer import SegmentWriter

log = logging.getLogger("iris.recording")

RESTARTED = "camera restarted (Iris or its camera process was not recording)"
INTERRUPTED = "stream interrupted"
DB_RETRIES = 5


class CameraRecording:
    """Continuous recording of one camera into the indexed store."""

    def __init__(self, *, engine: Engine, layout: Layout, camera_id: int,
                 segment_seconds: float,
                 on_indexed: Callable[[Segment], None] | None = None) -> None:
        self.engine = engine
        self.layout = layout
        self.camera_id = camera_id
        self.on_indexed = on_indexed
        self.writer = SegmentWriter(layout.segments(camera_id), segment_seconds,
                                    on_segment=self._finished)
        self._queue: queue.Queue[Segment | None] = queue.Queue()
        self._thread: threading.Thread | None = None
        self._covered = threading.Condition()
        self._indexed_until: float | None = None
        self.recorded_before_start: float | None = None  # footage end found at start-up
        self._ready = threading.Event()
        # Why footage stopped, for the next gap: noted before the segments that precede it
        # are indexed (the last one is finished only when the stream reopens).
        self._cause = RESTARTED
        self.gaps_recorded = 0
        self.segments_indexed = 0

    # ------------------------------------------------------------------ lifecycle
    def start(self) -> None:
        """Start the index thread (it reconciles the folder first)."""
        self._thread = threading.Thread(target=self._index_loop, name="recording-index",
                                        daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 10.0) -> None:
        """Index what is queued, then end the thread (the writer is closed by the caller)."""
        self._queue.put(None)
        if self._thread is not None:
            self._thread.join(timeout)

    # ------------------------------------------------------------------ writer side
    def open_streams(self, streams: list) -> None:
        self.writer.open_streams(streams)

    def write(self, packet: av.Packet, wall_time: float) -> None:
        failing = self.writer.error
        self.writer.write(packet, wall_time)
        if self.writer.error and self.writer.error != failing:
            self.note_outage(f"recording failed: {self.writer.error}")

    def close(self, finalize: bool = True) -> None:
        self.writer.close(finalize)

    def request_cut(self, at: float | None = None) -> None:
        """End the open segment at the first keyframe from wall time `at` (default now), so
        footage up to then is indexed about a GOP later."""
        self.writer.request_cut(at)

    def note_outage(self, reason: str) -> None:
        """Why footage is about to stop (stream error, writer failure): the next gap's reason.

        The first cause since the last gap counts (a dropped stream, not the refused
        reconnects after it); a restart stays the reason of the gap it opened.
        """
        if self._cause == INTERRUPTED:
            self._cause = reason

    @property
    def error(self) -> str | None:
        """Why recording is failing right now, if it is."""
        return self.writer.error

    def _finished(self, segment: Segment) -> None:
        self._queue.put(segment)

    # ------------------------------------------------------------------ coverage
    @property
    def indexed_until(self) -> float | None:
        """Where the indexed footage ends (epoch seconds)."""
        return self._indexed_until

    def wait_indexed(self, until: float, timeout: float) -> bool:
        """Block until indexed footage reaches `until` (True) or `timeout` passes (False)."""
        deadline = time.monotonic() + timeout
        with self._covered:
            while self._indexed_until is None or self._indexed_until < until:
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                self._covered.wait(min(left, 0.5))
        return True

    def wait_ready(self, timeout: float) -> bool:
        """Block until start-up reconciliation is done."""
        return self._ready.wait(timeout)

    # ------------------------------------------------------------------ index thread
    def _index_loop(self) -> None:
        try:
            reconcile_camera(self.engine, self.layout, self.camera_id)
            with Session(self.engine) as session:
                self._indexed_until = last_end(session, camera_id=self.camera_id)
            self.recorded_before_start = self._indexed_until
        except Exception:  # noqa: BLE001 - recording goes on; the next start reconciles
            log.exception("camera %s: reconciling the recording store failed", self.camera_id)
        finally:
            self._ready.set()
        while True:
            segment = self._queue.get()
            if segment is None:
                return
            try:
                self._index(segment)
            except Exception:  # noqa: BLE001 - the file stays; reconciliation indexes it
                log.exception("camera %s: could not index %s", self.camera_id,
                              segment.path.name)

    def _index(self, segment: Segment) -> None:
        previous = self._indexed_until
        gap = previous is not None and segment.start - previous > CONTIGUOUS_S
        for attempt in range(DB_RETRIES):
            try:
                with Session(self.engine) as session:
                    if gap and previous is not None:
                        cause = self._cause
                        add_gap(session, camera_id=self.camera_id, start=previous,
                                end=segment.start, reason=cause)
                        gap = False
                        # A cause explains one gap; a later one without a note is a hiccup.
                        self._cause = INTERRUPTED
                        self.gaps_recorded += 1
                        log.info("camera %s: %.1f s not recorded (%s)", self.camera_id,
                                 segment.start - previous, cause)
                    add_segment(session, layout=self.layout, camera_id=self.camera_id,
                                segment=segment)
                break
            except OperationalError as exc:  # a busy or restarting database: try again
                if attempt == DB_RETRIES - 1:
                    raise
                log.warning("camera %s: indexing %s failed (%s); retrying", self.camera_id,
                            segment.path.name, exc)
                time.sleep(0.5 * (attempt + 1))
        self.segments_indexed += 1
        if self._cause == RESTARTED:  # the restart is explained (or there was no gap at all)
            self._cause = INTERRUPTED
        with self._covered:
            self._indexed_until = max(previous or segment.end, segment.end)
            self._covered.notify_all()
        if self.on_indexed is not None:
            self.on_indexed(segment)
