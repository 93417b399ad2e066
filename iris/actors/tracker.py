"""Multi-object tracker over `Detections`: IoU association in the style of ByteTrack.

Each detection frame, confident detections are matched to tracks first; tracks still unmatched
then get a second chance against low-confidence detections (a person half hidden behind a car
keeps their id). Matching is greedy by IoU against each track's box predicted forward with its
recent velocity, and never across classes. A track is born tentative, confirmed after
``min_hits`` consecutive matches (only then does it get an id), and dies after ``max_age``
seconds without a match. No Ray, no I/O.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from iris.types import Detections, Track, box_iou


@dataclass(frozen=True)
class TrackerConfig:
    """Tracker thresholds.

    Attributes:
        high_threshold: detections at or above this are matched first and may start tracks.
        low_threshold: detections below this are ignored; between the two they only keep
            existing tracks alive.
        match_iou: minimum IoU for a confident detection to match a track.
        low_match_iou: minimum IoU for a low-confidence detection to match a track.
        min_hits: consecutive matches before a track is confirmed and reported.
        max_age: seconds a confirmed track survives without a match.
        velocity_smoothing: weight of the newest velocity estimate (0-1).
    """

    high_threshold: float = 0.5
    low_threshold: float = 0.1
    match_iou: float = 0.2
    low_match_iou: float = 0.4
    min_hits: int = 2
    max_age: float = 2.0
    velocity_smoothing: float = 0.5

    def __post_init__(self) -> None:
        if not 0.0 <= self.low_threshold <= self.high_threshold <= 1.0:
            raise ValueError("tracker thresholds need 0 <= low_threshold <= high_threshold <= 1")
        if self.min_hits < 1:
            raise ValueError(f"tracker min_hits must be at least 1, got {self.min_hits}")
        if self.max_age < 0:
            raise ValueError(f"tracker max_age must not be negative, got {self.max_age}")


@dataclass
class _TrackState:
    box: np.ndarray  # (4,) float32, last matched box
    class_id: int
    score: float
    first_seen: float
    last_seen: float
    hits: int = 1
    track_id: int = 0  # 0 while tentative
    velocity: np.ndarray | None = None  # (4,) px/s of the box corners

    def predicted(self, now: float) -> np.ndarray:
        if self.velocity is None:
            return self.box
        return self.box + self.velocity * (now - self.last_seen)


def _greedy_match(iou: np.ndarray, min_iou: float) -> list[tuple[int, int]]:
    """Pairs ``(row, col)`` taken in order of decreasing IoU, each row and column once."""
    pairs: list[tuple[int, int]] = []
    if iou.size == 0:
        return pairs
    rows, cols = np.nonzero(iou >= min_iou)
    order = np.argsort(-iou[rows, cols], kind="stable")
    used_r: set[int] = set()
    used_c: set[int] = set()
    for k in order:
        r, c = int(rows[k]), int(cols[k])
        if r not in used_r and c not in used_c:
            pairs.append((r, c))
            used_r.add(r)
            used_c.add(c)
    return pairs


class Tracker:
    """Assigns stable ``tracker_id``s to detections across frames of one camera."""

    def __init__(self, config: TrackerConfig | None = None) -> None:
        self.config = config or TrackerConfig()
        self._tracks: list[_TrackState] = []
        self._next_id = 1

    def reset(self) -> None:
        """Drop all tracks; ids keep counting up so they never repeat on this camera."""
        self._tracks = []

    def _iou(self, tracks: Sequence[_TrackState], dets: Detections, now: float) -> np.ndarray:
        if not tracks or len(dets) == 0:
            return np.zeros((len(tracks), len(dets)), np.float32)
        predicted = np.stack([t.predicted(now) for t in tracks])
        iou = box_iou(predicted, dets.xyxy)
        same_class = np.array([t.class_id for t in tracks])[:, None] == dets.class_id[None, :]
        return np.where(same_class, iou, 0.0)

    def _apply(self, track: _TrackState, dets: Detections, j: int, now: float) -> None:
        box = dets.xyxy[j].astype(np.float32)
        dt = now - track.last_seen
        if dt > 0:
            v = (box - track.box) / dt
            a = self.config.velocity_smoothing
            track.velocity = v if track.velocity is None else a * v + (1 - a) * track.velocity
        track.box = box
        track.score = float(dets.confidence[j])
        track.last_seen = now
        track.hits += 1
        if track.track_id == 0 and track.hits >= self.config.min_hits:
            track.track_id = self._take_id()

    def update(self, detections: Detections, now: float) -> Detections:
        """Feed one detection frame and return its detections of confirmed tracks.

        Args:
            detections: the frame's detections (source-frame pixels).
            now: the frame's timestamp in seconds; must not go backwards.

        Returns:
            The matched detections of confirmed tracks, boxes as detected, ``tracker_id`` set.
        """
        cfg = self.config
        self._tracks = [tr for tr in self._tracks if now - tr.last_seen <= cfg.max_age]
        keep = detections.confidence >= cfg.low_threshold
        high_idx = np.flatnonzero(keep & (detections.confidence >= cfg.high_threshold))
        low_idx = np.flatnonzero(keep & (detections.confidence < cfg.high_threshold))
        owner: dict[int, _TrackState] = {}  # detection index -> its track

        high = detections[high_idx]
        for t, j in _greedy_match(self._iou(self._tracks, high, now), cfg.match_iou):
            owner[int(high_idx[j])] = self._tracks[t]
        # Second pass: confirmed tracks left over may keep going on a low-confidence detection.
        taken = {id(track) for track in owner.values()}
        spare = [tr for tr in self._tracks if tr.track_id and id(tr) not in taken]
        low = detections[low_idx]
        for t, j in _greedy_match(self._iou(spare, low, now), cfg.low_match_iou):
            owner[int(low_idx[j])] = spare[t]

        for j, track in owner.items():
            self._apply(track, detections, j, now)
        taken = {id(track) for track in owner.values()}
        # Tentative tracks die on their first miss; confirmed ones after max_age (above).
        self._tracks = [tr for tr in self._tracks if id(tr) in taken or tr.track_id]
        for j in high_idx.tolist():
            if j not in owner:
                owner[j] = self._new_track(detections, j, now)
                self._tracks.append(owner[j])

        out = sorted(j for j, track in owner.items() if track.track_id)
        picked = detections[np.asarray(out, np.int64)]
        return Detections(
            xyxy=picked.xyxy,
            confidence=picked.confidence,
            class_id=picked.class_id,
            tracker_id=np.asarray([owner[j].track_id for j in out], np.int64),
        )

    def _new_track(self, dets: Detections, j: int, now: float) -> _TrackState:
        track = _TrackState(
            box=dets.xyxy[j].astype(np.float32),
            class_id=int(dets.class_id[j]),
            score=float(dets.confidence[j]),
            first_seen=now,
            last_seen=now,
        )
        if self.config.min_hits == 1:
            track.track_id = self._take_id()
        return track

    def _take_id(self) -> int:
        self._next_id += 1
        return self._next_id - 1

    def tracks(self, names: Sequence[str]) -> list[Track]:
        """Confirmed live tracks as `Track` records, labelled with ``names``."""
        return [
            Track(
                track_id=t.track_id,
                label=names[t.class_id] if 0 <= t.class_id < len(names) else f"class{t.class_id}",
                box=(float(t.box[0]), float(t.box[1]), float(t.box[2]), float(t.box[3])),
                score=t.score,
                first_seen=t.first_seen,
                last_seen=t.last_seen,
            )
            for t in self._tracks
            if t.track_id
        ]
