"""The boxes a camera tracks now, for overlays the browser draws itself (no Ray).

Every detection step publishes what it tracked (`OverlayFeed.publish`): labels, track ids,
scores and boxes normalised to the frame (0–1, so the SPA scales them to any player size). Each
publication gets a sequence number; `wait` long-polls for one newer than the caller's. Only the
latest counts: a viewer that misses one sees the next, as with live video.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from iris.types import Detections

OVERLAY_MAX_AGE_S = 1.5
"""Boxes older than this are stale: no longer drawn (MJPEG) or sent (overlay streams)."""


@dataclass(frozen=True)
class TrackedBox:
    """One box: what it is, which track, how sure, where (x1, y1, x2, y2 in 0–1), and the
    camera's zones it stands in."""

    label: str
    track_id: int | None
    score: float
    box: tuple[float, float, float, float]
    zones: tuple[str, ...] = ()

    def as_dict(self) -> dict[str, Any]:
        return {"label": self.label, "track_id": self.track_id, "score": round(self.score, 3),
                "box": [round(v, 4) for v in self.box], "zones": list(self.zones)}


@dataclass(frozen=True)
class Overlay:
    """The boxes of one detection step (`ts`: epoch seconds of the frame they were found in)."""

    seq: int
    ts: float
    boxes: tuple[TrackedBox, ...] = field(default_factory=tuple)

    def as_dict(self) -> dict[str, Any]:
        """The JSON an overlay event carries."""
        return {"seq": self.seq, "ts": round(self.ts, 3),
                "boxes": [box.as_dict() for box in self.boxes]}


def tracked_boxes(detections: Detections, labels: list[str], width: int, height: int,
                  zones: Sequence[tuple[str, ...]] | None = None) -> tuple[TrackedBox, ...]:
    """`detections` (pixels of a width × height frame) as normalised boxes, clipped to it;
    `zones`: the zones each one is in."""
    if width <= 0 or height <= 0:
        return ()
    boxes = []
    for index in range(len(detections)):
        x1, y1, x2, y2 = (float(v) for v in detections.xyxy[index])
        track = detections.tracker_id[index] if detections.tracker_id is not None else None
        boxes.append(TrackedBox(
            label=labels[index] if index < len(labels) else str(detections.class_id[index]),
            track_id=int(track) if track is not None else None,
            score=float(detections.confidence[index]),
            box=(_unit(x1 / width), _unit(y1 / height), _unit(x2 / width), _unit(y2 / height)),
            zones=tuple(zones[index]) if zones is not None and index < len(zones) else ()))
    return tuple(boxes)


def _unit(value: float) -> float:
    return min(1.0, max(0.0, value))


class OverlayFeed:
    """The latest tracked boxes with a sequence number; callers long-poll for newer ones."""

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._latest = Overlay(0, 0.0)

    @property
    def seq(self) -> int:
        return self._latest.seq

    def publish(self, detections: Detections, labels: list[str], width: int, height: int,
                ts: float | None = None,
                zones: Sequence[tuple[str, ...]] | None = None) -> Overlay:
        """What one detection step tracked in a width × height frame."""
        boxes = tracked_boxes(detections, labels, width, height, zones)
        with self._cond:
            self._latest = Overlay(self._latest.seq + 1, time.time() if ts is None else ts,
                                   boxes)
            self._cond.notify_all()
            return self._latest

    def wait(self, after_seq: int, timeout: float) -> Overlay | None:
        """The latest boxes unless they are `after_seq`'s, waiting up to `timeout`; else None.

        Any other number counts as older: a camera that restarted numbers from 0 again.
        """
        with self._cond:
            if self._cond.wait_for(lambda: self._latest.seq != after_seq, timeout=timeout):
                return self._latest
            return None
