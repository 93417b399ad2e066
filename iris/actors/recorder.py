"""Track-mode presence recorder: turns tracked detections into one event per presence.

Fed every detection frame (and ticked on frames without detection), it opens an event once an
object of a trigger class has been seen in ``min_trigger_frames`` consecutive detection frames,
keeps it open while any triggering object is seen, and closes it ``post_seconds`` after the last
sighting. The clip window is ``[first_seen - pre_seconds, last_seen + post_seconds]``. A new
event may not open until ``trigger_cooldown`` seconds after the previous one closed. It also
keeps the best-scoring detection for the thumbnail. No Ray, no I/O: the camera acts on the
returned events.

The camera's zone rules arrive per detection (`iris.zones`): ``eligible`` says whether a
detection may trigger or hold the event at all (it qualified for a required zone, it is not a
parked object), ``alerting`` whether it makes the event an alert, and ``zones`` the zones it
is in. An event is an ``alert`` once any triggering detection of it was alerting, else a
``detection``; its zones are those any object was in while it lasted.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace

import numpy as np

from iris.types import Box, Detections

DEFAULT_TRIGGER_CLASSES = ("person",)


@dataclass(frozen=True)
class RecorderConfig:
    """Track-mode trigger settings (resolved per camera).

    Attributes:
        trigger_classes: labels that trigger an event; empty means ``("person",)``.
        min_trigger_frames: consecutive detection frames an object must be seen to trigger.
        pre_seconds: clip time before the object was first seen.
        post_seconds: quiet time after the last sighting before the event closes; also the
            clip time after the last sighting.
        trigger_cooldown: seconds after an event's close before another may open.
    """

    trigger_classes: tuple[str, ...] = DEFAULT_TRIGGER_CLASSES
    min_trigger_frames: int = 3
    pre_seconds: float = 5.0
    post_seconds: float = 10.0
    trigger_cooldown: float = 0.0

    def __post_init__(self) -> None:
        if self.min_trigger_frames < 1:
            raise ValueError(
                f"min_trigger_frames must be at least 1, got {self.min_trigger_frames}"
            )
        for name in ("pre_seconds", "post_seconds", "trigger_cooldown"):
            if getattr(self, name) < 0:
                raise ValueError(f"{name} must not be negative, got {getattr(self, name)}")

    @property
    def triggers(self) -> frozenset[str]:
        """The effective trigger labels."""
        return frozenset(self.trigger_classes or DEFAULT_TRIGGER_CLASSES)


@dataclass(frozen=True)
class EventOpened:
    """A presence started: the camera should create the event row and keep pre-roll.

    Attributes:
        label: label of the object that triggered.
        score: its best confidence so far.
        first_seen: when that object was first seen (seconds).
        opened_at: when the trigger fired.
        track_id: its tracker id, if the detections were tracked.
        severity: ``alert`` or ``detection`` so far.
        zones: the zones objects were in at the open.
    """

    label: str
    score: float
    first_seen: float
    opened_at: float
    track_id: int | None = None
    severity: str = "alert"
    zones: tuple[str, ...] = ()


@dataclass(frozen=True, eq=False)
class EventUpdated:
    """The open event has a better thumbnail candidate (higher score)."""

    label: str
    score: float
    first_seen: float
    last_seen: float
    best_box: Box
    best_frame: object | None = None


@dataclass(frozen=True, eq=False)
class EventClosed:
    """The presence ended: cut ``[clip_start, clip_end]`` and write the best thumbnail.

    Attributes:
        label: label that triggered the event.
        labels: every trigger label seen during the event, in order of first sighting.
        score: best confidence seen.
        first_seen: when the triggering object was first seen.
        last_seen: last sighting of any triggering object.
        clip_start: ``first_seen - pre_seconds``.
        clip_end: ``last_seen + post_seconds``.
        best_box: box of the best detection, in the frame it was found in.
        best_frame: what the camera passed with that detection (frame or crop callback).
        severity: ``alert`` or ``detection``.
        zones: the zones objects entered while it lasted, in order of entry.
    """

    label: str
    labels: tuple[str, ...]
    score: float
    first_seen: float
    last_seen: float
    clip_start: float
    clip_end: float
    best_box: Box
    best_frame: object | None = None
    severity: str = "alert"
    zones: tuple[str, ...] = ()


@dataclass(frozen=True)
class EventZonesChanged:
    """The open event's objects entered another zone, or it became an alert."""

    zones: tuple[str, ...]
    severity: str


RecorderEvent = EventOpened | EventUpdated | EventZonesChanged | EventClosed


@dataclass
class _OpenEvent:
    label: str
    first_seen: float
    last_seen: float
    score: float
    best_box: Box
    best_frame: object | None
    labels: list[str] = field(default_factory=list)
    alert: bool = True
    zones: list[str] = field(default_factory=list)

    @property
    def severity(self) -> str:
        return "alert" if self.alert else "detection"

    def enter(self, zones: Sequence[tuple[str, ...]]) -> None:
        for names in zones:
            for name in names:
                if name not in self.zones:
                    self.zones.append(name)


def _box(row: np.ndarray) -> Box:
    return (float(row[0]), float(row[1]), float(row[2]), float(row[3]))


class TrackRecorder:
    """Presence recorder state machine for one camera."""

    def __init__(self, config: RecorderConfig | None = None) -> None:
        self.config = config or RecorderConfig()
        # (label, track id or -1) -> (consecutive detection frames, first seen)
        self._streaks: dict[tuple[str, int], tuple[int, float]] = {}
        self._event: _OpenEvent | None = None
        self._cooldown_until = float("-inf")
        self._last_frame = float("-inf")

    @property
    def is_open(self) -> bool:
        """Whether an event is in progress."""
        return self._event is not None

    def update(
        self,
        now: float,
        detections: Detections,
        names: Sequence[str],
        frame: object | None = None,
        *,
        eligible: np.ndarray | None = None,
        alerting: np.ndarray | None = None,
        zones: Sequence[tuple[str, ...]] | None = None,
    ) -> list[RecorderEvent]:
        """Feed one detection frame (the detector ran on it, whatever it found).

        An open event whose zones or severity this frame changed gets an `EventZonesChanged`
        after the frame's other events.

        Args:
            now: the frame's timestamp in seconds (wall clock, so clip times line up with
                segment times); must not go backwards.
            detections: tracked detections of the frame (``tracker_id`` set); untracked ones
                are treated as one object per label.
            names: class names for ``detections.class_id``.
            frame: kept, untouched, if this frame holds the best detection (a frame array, or
                a callable that crops it later).
            eligible: per detection, whether it may trigger or hold the event (None: all).
            alerting: per detection, whether it makes the event an alert (None: all).
            zones: per detection, the zones it is in now (None: none).

        Returns:
            The events this frame caused, in order (a close can precede an open).
        """
        before = self._event
        mark = (len(before.zones), before.alert) if before is not None else None
        events = self._update(now, detections, names, frame, eligible, alerting, zones)
        if before is not None and self._event is before \
                and (len(before.zones), before.alert) != mark:
            events.append(EventZonesChanged(zones=tuple(before.zones),
                                            severity=before.severity))
        return events

    def _update(self, now: float, detections: Detections, names: Sequence[str],
                frame: object | None, eligible: np.ndarray | None,
                alerting: np.ndarray | None, zones: Sequence[tuple[str, ...]] | None
                ) -> list[RecorderEvent]:
        events = self.tick(now)
        labels = detections.labels(names)
        triggers = self.config.triggers
        hits = [i for i, label in enumerate(labels)
                if label in triggers and (eligible is None or bool(eligible[i]))]
        self._count_streaks(now, detections, labels, hits)
        self._last_frame = now
        if self._event is not None and zones is not None:
            self._event.enter(zones)
        if not hits:
            return events
        alert = alerting is None or any(bool(alerting[i]) for i in hits)
        if self._event is None:
            opened = self._maybe_open(now, detections, labels, hits, frame, alert)
            if opened is not None:
                if zones is not None and self._event is not None:
                    self._event.enter(zones)
                    opened = replace(opened, zones=tuple(self._event.zones))
                events.append(opened)
            return events
        event = self._event
        event.last_seen = now
        event.alert = event.alert or alert
        for i in hits:
            if labels[i] not in event.labels:
                event.labels.append(labels[i])
        best = max(hits, key=lambda i: float(detections.confidence[i]))
        if float(detections.confidence[best]) > event.score:
            event.score = float(detections.confidence[best])
            event.best_box = _box(detections.xyxy[best])
            event.best_frame = frame
            events.append(
                EventUpdated(
                    label=event.label,
                    score=event.score,
                    first_seen=event.first_seen,
                    last_seen=now,
                    best_box=event.best_box,
                    best_frame=frame,
                )
            )
        return events

    def tick(self, now: float) -> list[RecorderEvent]:
        """Advance time on a frame the detector did not run on; may close the open event.

        Streaks are left alone: only detection frames count towards or break them.
        """
        event = self._event
        if event is not None and now - event.last_seen >= self.config.post_seconds:
            return [self._close()]
        return []

    def flush(self) -> list[RecorderEvent]:
        """Close the open event now (camera stopping); its clip still ends post_seconds later."""
        return [self._close()] if self._event is not None else []

    def _count_streaks(
        self, now: float, dets: Detections, labels: list[str], hits: list[int]
    ) -> None:
        if now - self._last_frame > self.config.post_seconds:
            self._streaks = {}  # frames stopped for a while: what follows is a new sighting
        streaks: dict[tuple[str, int], tuple[int, float]] = {}
        for i in hits:
            tid = -1 if dets.tracker_id is None else int(dets.tracker_id[i])
            key = (labels[i], tid)
            if key not in streaks:  # the same untracked label twice in a frame is one object
                count, first = self._streaks.get(key, (0, now))
                streaks[key] = (count + 1, first)
        self._streaks = streaks  # a detection frame without the object breaks its streak

    def _maybe_open(
        self,
        now: float,
        dets: Detections,
        labels: list[str],
        hits: list[int],
        frame: object | None,
        alert: bool = True,
    ) -> EventOpened | None:
        if now < self._cooldown_until:
            return None
        ready = [
            (key, streak)
            for key, streak in self._streaks.items()
            if streak[0] >= self.config.min_trigger_frames
        ]
        if not ready:
            return None
        # The object seen longest triggers; its first sighting starts the clip.
        (label, tid), (_, first_seen) = min(ready, key=lambda kv: kv[1][1])
        best = max(hits, key=lambda i: float(dets.confidence[i]))
        self._event = _OpenEvent(
            label=label,
            first_seen=first_seen,
            last_seen=now,
            score=float(dets.confidence[best]),
            best_box=_box(dets.xyxy[best]),
            best_frame=frame,
            labels=[label] + [lb for lb in dict.fromkeys(labels[i] for i in hits) if lb != label],
            alert=alert,
        )
        return EventOpened(
            label=label,
            score=self._event.score,
            first_seen=first_seen,
            opened_at=now,
            track_id=None if tid < 0 else tid,
            severity=self._event.severity,
        )

    def _close(self) -> EventClosed:
        event = self._event
        assert event is not None
        self._event = None
        cfg = self.config
        clip_end = event.last_seen + cfg.post_seconds
        # Cooldown runs from the logical close (end of the quiet period), not from whenever
        # the next frame happened to arrive.
        self._cooldown_until = clip_end + cfg.trigger_cooldown
        return EventClosed(
            label=event.label,
            labels=tuple(event.labels),
            score=event.score,
            first_seen=event.first_seen,
            last_seen=event.last_seen,
            clip_start=event.first_seen - cfg.pre_seconds,
            clip_end=clip_end,
            best_box=event.best_box,
            best_frame=event.best_frame,
            severity=event.severity,
            zones=tuple(event.zones),
        )
