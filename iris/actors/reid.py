"""Cross-camera re-identification, camera side (no Ray): a few good crops per track.

For every confirmed track the camera keeps the first good crop and up to a few better ones,
never every frame; a worker thread sends them to the Embedder and the resulting sighting to
the IdentityManager. A bounded queue drops crops rather than ever slowing the camera down.
"""

from __future__ import annotations

import logging
import queue
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

import cv2
import numpy as np

from iris.identity import Assignment
from iris.types import Detections, Observation

log = logging.getLogger("iris.reid")

MIN_QUALITY = 0.15
FIRST_AFTER_S = 0.3
RESEND_AFTER_S = 2.0
MAX_CROPS_PER_TRACK = 4
FORGET_AFTER_S = 30.0
QUEUE_SIZE = 16


class EmbedderClient(Protocol):
    def embed(self, crop: np.ndarray, want_face: bool) -> Any: ...


class IdentityClient(Protocol):
    def assign(self, observation: Observation) -> Assignment: ...


@dataclass
class _Track:
    first_seen: float
    last_seen: float
    label: str
    sent: int = 0
    last_sent: float = 0.0
    best_sent: float = 0.0


@dataclass
class _Crop:
    track_id: int
    label: str
    first_seen: float
    seen_at: float
    box: tuple[float, float, float, float]
    quality: float
    image: np.ndarray
    event_id: int | None
    extra: dict[str, Any] = field(default_factory=dict)


def crop_quality(box: np.ndarray, confidence: float, shape: tuple[int, ...]) -> float:
    """Confidence × size, halved for boxes cut by the frame edge (a partial body)."""
    height, width = shape[:2]
    x1, y1, x2, y2 = box
    area = max(0.0, x2 - x1) * max(0.0, y2 - y1) / float(width * height)
    quality = float(confidence) * min(1.0, (area / 0.05) ** 0.5)
    if x1 <= 2 or y1 <= 2 or x2 >= width - 2 or y2 >= height - 2:
        quality *= 0.5
    return quality


class ReidSender:
    """Chooses crops per track and runs them through embedder → identity on its own thread."""

    def __init__(self, camera_id: int, embedder: EmbedderClient, identity: IdentityClient,
                 faces: bool, on_assigned: Callable[[Assignment, int | None], None]) -> None:
        self.camera_id = camera_id
        self.embedder = embedder
        self.identity = identity
        self.faces = faces
        self.on_assigned = on_assigned
        self._tracks: dict[int, _Track] = {}
        self._assigned: dict[int, Assignment] = {}  # track id → its latest assignment
        self._queue: queue.Queue[_Crop | None] = queue.Queue(maxsize=QUEUE_SIZE)
        self.sent = self.dropped = self.failed = 0
        self._thread = threading.Thread(target=self._work, name="reid", daemon=True)
        self._thread.start()

    def observe(self, now: float, tracked: Detections, labels: list[str], frame: np.ndarray,
                event_id: int | None) -> None:
        """One detection frame's confirmed tracks (frame coordinates)."""
        if tracked.tracker_id is None:
            return
        for index in range(len(tracked)):
            track_id = int(tracked.tracker_id[index])
            box = tracked.xyxy[index]
            state = self._tracks.setdefault(track_id, _Track(now, now, labels[index]))
            state.last_seen = now
            quality = crop_quality(box, float(tracked.confidence[index]), frame.shape)
            if quality < MIN_QUALITY or state.sent >= MAX_CROPS_PER_TRACK:
                continue
            first = state.sent == 0 and now - state.first_seen >= FIRST_AFTER_S
            better = (state.sent > 0 and now - state.last_sent >= RESEND_AFTER_S
                      and quality > state.best_sent * 1.1)
            if first or better:
                self._enqueue(_Crop(track_id, state.label, state.first_seen, now,
                                    tuple(float(v) for v in box),  # type: ignore[arg-type]
                                    quality, _cut(frame, box), event_id))
                state.sent += 1
                state.last_sent, state.best_sent = now, max(state.best_sent, quality)
        for track_id in [t for t, s in self._tracks.items() if now - s.last_seen > FORGET_AFTER_S]:
            del self._tracks[track_id]
            self._assigned.pop(track_id, None)

    def live_assignments(self, now: float, within: float = 2.0) -> list[Assignment]:
        """Identities of the tracks seen in the last `within` seconds (for a new event)."""
        return [assignment for track_id, assignment in list(self._assigned.items())
                if (track := self._tracks.get(track_id)) and now - track.last_seen <= within]

    def stop(self) -> None:
        try:
            self._queue.put_nowait(None)
        except queue.Full:
            pass
        self._thread.join(timeout=10)

    def _enqueue(self, crop: _Crop) -> None:
        try:
            self._queue.put_nowait(crop)
        except queue.Full:
            self.dropped += 1

    def _work(self) -> None:
        while (crop := self._queue.get()) is not None:
            try:
                self._process(crop)
                self.sent += 1
            except Exception as exc:  # noqa: BLE001 - identity is best-effort; recording goes on
                self.failed += 1
                log.warning("camera %s: re-id of track %s failed: %s", self.camera_id,
                            crop.track_id, exc)

    def _process(self, crop: _Crop) -> None:
        embedding = self.embedder.embed(crop.image, self.faces)
        face = embedding.face
        face_jpeg = None
        if face is not None:
            x1, y1, x2, y2 = face.crop_box(0.2)
            h, w = crop.image.shape[:2]
            face_jpeg = _jpeg(crop.image[max(0, y1):min(h, y2), max(0, x1):min(w, x2)])
        observation = Observation(
            camera_id=self.camera_id, track_id=crop.track_id, ts=crop.first_seen,
            end_ts=crop.seen_at, label=crop.label, box=crop.box,
            face_embedding=face.embedding if face is not None else None,
            appearance=embedding.appearance, quality=crop.quality,
            face_quality=face.quality if face is not None else None,
            crop_jpeg=_jpeg(crop.image), face_jpeg=face_jpeg, event_id=crop.event_id)
        assignment = self.identity.assign(observation)
        self._assigned[crop.track_id] = assignment
        self.on_assigned(assignment, crop.event_id)


def _cut(frame: np.ndarray, box: np.ndarray, margin: float = 0.1) -> np.ndarray:
    height, width = frame.shape[:2]
    x1, y1, x2, y2 = box
    dx, dy = (x2 - x1) * margin, (y2 - y1) * margin
    left, top = max(0, int(x1 - dx)), max(0, int(y1 - dy))
    right, bottom = min(width, int(x2 + dx)), min(height, int(y2 + dy))
    return np.ascontiguousarray(frame[top:bottom, left:right])


def _jpeg(image: np.ndarray) -> bytes | None:
    if image.size == 0:
        return None
    ok, encoded = cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, 88])
    return encoded.tobytes() if ok else None
