"""Stationary objects: a track whose box has settled for a while stops counting (no Ray, no I/O).

A parked car is detected in every frame; without this it would hold an event open for as long
as it stays. Each track remembers where its box *settled* — the box it had when it last moved —
and since when. While the box keeps overlapping that settled box (IoU at least ``iou``) or its
centre stays within ``shift`` of the settled box's size, the object has not moved; after
``seconds`` of that it is stationary, until it moves again (then it settles afresh).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from iris.types import Detections, box_iou

FORGET_TRACK_S = 60.0


@dataclass
class _Settled:
    box: np.ndarray
    since: float
    last_seen: float


class StationaryWatch:
    """Tells which tracked detections have not moved for `seconds`."""

    def __init__(self, seconds: float, iou: float = 0.9, shift: float = 0.05) -> None:
        """Args:
            seconds: how long a box must stay put to be stationary; 0 turns this off.
            iou: overlap with the settled box that counts as not moved.
            shift: centre movement, as a fraction of the settled box's mean side, that
                counts as not moved (detector boxes jitter).
        """
        if seconds < 0:
            raise ValueError(f"stationary seconds must not be negative, got {seconds}")
        self.seconds = seconds
        self.iou = iou
        self.shift = shift
        self._tracks: dict[int, _Settled] = {}

    def update(self, now: float, detections: Detections) -> np.ndarray:
        """A boolean per detection: stationary now. Untracked detections never are."""
        out = np.zeros(len(detections), bool)
        if self.seconds <= 0 or detections.tracker_id is None:
            return out
        for i, track_id in enumerate(detections.tracker_id.tolist()):
            box = detections.xyxy[i].astype(np.float32)
            settled = self._tracks.get(int(track_id))
            if settled is None or self._moved(settled.box, box):
                self._tracks[int(track_id)] = _Settled(box, now, now)
                continue
            settled.last_seen = now
            out[i] = now - settled.since >= self.seconds
        stale = [t for t, s in self._tracks.items() if now - s.last_seen > FORGET_TRACK_S]
        for track_id in stale:
            del self._tracks[track_id]
        return out

    def _moved(self, settled: np.ndarray, box: np.ndarray) -> bool:
        if float(box_iou(settled[None], box[None])[0, 0]) >= self.iou:
            return False
        centre = (settled[:2] + settled[2:]) / 2
        size = float(np.mean(settled[2:] - settled[:2]))
        shift = float(np.linalg.norm((box[:2] + box[2:]) / 2 - centre))
        return shift > self.shift * max(size, 1.0)
