"""A camera's side of notifications: event changes, object counts and status, off its threads.

The camera's detection loop, event jobs and ingest call `CameraNotices` and return at once: each
call only appends to a small bounded queue (the oldest notice is dropped, and counted, when it is
full). One thread of its own reads the event row as the API returns it (`public_event`, the
serialiser of ``GET /api/events/{id}``, so fields the API gains travel too), remembers it as the
next change's ``before``, and hands everything to the `NotifyClient` (itself fire and forget).
A dead, slow or absent Notifier therefore never holds up ingest, detection or recording.

Object counts come from what the detection loop already publishes for live overlays (one
`Overlay` per detection step): a watcher thread counts its boxes per label and reports the
labels whose count changed. No Ray here.
"""

from __future__ import annotations

import logging
import threading
from collections import Counter, deque
from collections.abc import Callable, Mapping
from typing import Any, Protocol

from sqlalchemy.engine import Engine
from sqlmodel import Session

from iris.db.tables import Event
from iris.notify.client import NotifyClient, NullNotifyClient
from iris.notify.payload import EventLike, public_event
from iris.settings import EventChange

log = logging.getLogger("iris.notify")

QUEUE_SIZE = 256
#: How long the count watcher waits for a detection step before looking at its stop flag.
WATCH_WAIT_S = 1.0
#: What the ingest calls a source it is no longer reading.
_STATUS_NAMES = {"stopped": "offline"}

#: Loads an event row (or its API view) by id; None when it is gone.
EventLoader = Callable[[int], EventLike | None]


def event_loader(engine: Engine) -> EventLoader:
    """Reads event rows from the camera's database."""
    def load(event_id: int) -> Event | None:
        with Session(engine) as session:
            return session.get(Event, event_id)

    return load


class OverlaySource(Protocol):
    """What the count watcher needs from `iris.live.overlay.OverlayFeed`."""

    def wait(self, after_seq: int, timeout: float) -> Any:
        """The latest overlay (with `.seq` and `.boxes`, each with `.label`) unless it is
        `after_seq`'s, waiting up to `timeout`; else None."""


class CameraNotices:
    """Notifications of one camera; see the module notes. Every public method returns at once.

    Args:
        camera_id: the camera's id (its MQTT topics).
        client: where notices go; a `NullNotifyClient` (notifications off) makes every call a
            no-op and starts no thread.
        load_event: reads an event row by id, on this object's thread.
        queue_size: pending notices at most.
    """

    def __init__(self, camera_id: int, client: NotifyClient, load_event: EventLoader, *,
                 queue_size: int = QUEUE_SIZE) -> None:
        self.camera_id = camera_id
        self._client = client
        self._load = load_event
        self._queue_size = queue_size
        self._queue: deque[tuple[str, tuple[Any, ...]]] = deque()
        self._cond = threading.Condition()
        self._closed = False
        self._busy = False
        self._events: dict[int, dict[str, Any]] = {}  # open event id → its last view
        self._counts: dict[str, int] = {}
        self._status: str | None = None
        self.dropped = 0
        self.sent = 0
        self.enabled = not isinstance(client, NullNotifyClient)
        self._thread = threading.Thread(target=self._run, name="notices", daemon=True)
        self._watcher: threading.Thread | None = None
        if self.enabled:
            self._thread.start()

    # ------------------------------------------------------------------ the camera's calls
    def event(self, change: EventChange, event_id: int) -> None:
        """Event `event_id` opened (``new``), changed (``update``) or finished (``end``)."""
        self._put("event", change, event_id)

    def status(self, status: str) -> None:
        """The camera's status now (reported when it changed)."""
        status = _STATUS_NAMES.get(status, status)
        with self._cond:
            if status == self._status:
                return
            self._status = status
        self._put("status", status)
        if status != "online":
            self.counts({})  # nothing is in view of a camera that does not see

    def counts(self, counts: Mapping[str, int]) -> None:
        """Objects in view now, per label; labels that changed (or went to 0) are reported."""
        with self._cond:
            changed = {label: count for label, count in counts.items()
                       if self._counts.get(label, 0) != count}
            changed |= {label: 0 for label, count in self._counts.items()
                        if count and label not in counts}
            self._counts.update(changed)
        for label, count in sorted(changed.items()):
            self._put("objects", label, count)

    def watch(self, overlays: OverlaySource, stop: threading.Event) -> None:
        """Count the boxes of every detection step `overlays` publishes until `stop` is set."""
        if not self.enabled:
            return

        def run() -> None:
            seq = -1
            while not stop.is_set():
                overlay = overlays.wait(seq, WATCH_WAIT_S)
                if overlay is None:
                    continue
                seq = overlay.seq
                self.counts(Counter(box.label for box in overlay.boxes))

        self._watcher = threading.Thread(target=run, name="notice-counts", daemon=True)
        self._watcher.start()

    def close(self, timeout: float = 2.0) -> None:
        """Send what is queued (waiting up to `timeout`), then stop the thread."""
        with self._cond:
            self._cond.wait_for(lambda: not self._queue and not self._busy, timeout=timeout)
            self._closed = True
            self._cond.notify_all()
        if self._thread.is_alive():
            self._thread.join(timeout)
        if self._watcher is not None:
            self._watcher.join(timeout)

    def drain(self, timeout: float) -> bool:
        """Wait until every queued notice was handed on (tests, benchmarks)."""
        with self._cond:
            return self._cond.wait_for(lambda: not self._queue and not self._busy, timeout)

    # ------------------------------------------------------------------ the thread
    def _put(self, kind: str, *args: Any) -> None:
        with self._cond:
            if self._closed or not self.enabled:
                return
            if len(self._queue) >= self._queue_size:
                self._queue.popleft()
                self.dropped += 1
            self._queue.append((kind, args))
            self._cond.notify_all()

    def _run(self) -> None:
        while True:
            with self._cond:
                self._cond.wait_for(lambda: self._queue or self._closed)
                if not self._queue:
                    return
                kind, args = self._queue.popleft()
                self._busy = True
            try:
                self._send(kind, args)
            except Exception as exc:  # noqa: BLE001 - a notice never stops the camera
                log.warning("camera %s: %s not notified: %s", self.camera_id, kind, exc)
            finally:
                with self._cond:
                    self._busy = False
                    self._cond.notify_all()

    def _send(self, kind: str, args: tuple[Any, ...]) -> None:
        if kind == "status":
            self._client.camera_status(self.camera_id, args[0])
        elif kind == "objects":
            self._client.objects(self.camera_id, args[0], args[1])
        else:
            self._send_event(*args)
        self.sent += 1

    def _send_event(self, change: EventChange, event_id: int) -> None:
        row = self._load(event_id)
        if row is None:
            self._events.pop(event_id, None)
            return  # deleted meanwhile: nothing to say about it
        after = public_event(row)
        before = self._events.get(event_id)
        if change == "update" and after == before:
            return
        if change == "end":
            self._events.pop(event_id, None)
        else:
            self._events[event_id] = after
        self._client.event_changed(change, before, after)
