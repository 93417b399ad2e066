"""Which zones each tracked object is in, which it entered, and whether it may trigger.

An object is in a zone when its box's bottom centre (where it stands) lies inside the zone's
polygon; a zone with ``labels`` only counts those labels. With required zones set, an object
*qualifies* — may open or hold an event — once it entered one of them, or, for a required zone
with ``loiter_seconds``, once it stayed inside that long without leaving. A track stays
qualified until it dies: a person who walked up the drive and back to the street is still the
presence the event is about. Detections without a track id (motion boxes) qualify only while
they are inside a required zone, loiter time aside. No Ray, no I/O.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from iris.types import Detections
from iris.zones.polygons import Polygon, bottom_centre, check_polygon, contains

FORGET_TRACK_S = 60.0
"""A track unseen this long is dropped from the zone bookkeeping (its id never returns)."""


@dataclass(frozen=True)
class Zone:
    """A named area of the frame.

    Attributes:
        name: unique per camera.
        polygon: the area, normalised to the frame.
        labels: only objects of these labels count in it; None: every label.
        loiter_seconds: as a required zone, an object must stay this long inside to qualify;
            None: entering is enough.
    """

    name: str
    polygon: Polygon
    labels: tuple[str, ...] | None = None
    loiter_seconds: float | None = None

    @classmethod
    def from_dict(cls, values: Mapping[str, Any]) -> Zone:
        """From the camera row's JSON."""
        labels = values.get("labels")
        loiter = values.get("loiter_seconds")
        return cls(name=str(values["name"]), polygon=check_polygon(values["polygon"]),
                   labels=None if labels is None else tuple(labels),
                   loiter_seconds=None if loiter is None else float(loiter))

    def counts(self, label: str) -> bool:
        """Whether an object of `label` can be in this zone."""
        return self.labels is None or label in self.labels


@dataclass(frozen=True)
class ZoneVerdict:
    """What the zones say about each detection of one frame (parallel to the detections).

    Attributes:
        zones: the names of the zones each detection is in now.
        qualified: whether it may open or hold an event (all True without required zones).
        in_required: whether it is in a required zone now (all True without required zones).
    """

    zones: list[tuple[str, ...]]
    qualified: np.ndarray
    in_required: np.ndarray


@dataclass
class _TrackZones:
    since: dict[str, float] = field(default_factory=dict)  # zone -> entered at (inside now)
    qualified: bool = False
    last_seen: float = 0.0


class ZoneMonitor:
    """Zone membership and required-zone qualification of one camera's tracks."""

    def __init__(self, zones: Sequence[Zone], required: Sequence[str] = ()) -> None:
        """Raises ValueError when a required name is not one of the zones."""
        names = {zone.name for zone in zones}
        missing = [name for name in required if name not in names]
        if missing:
            raise ValueError(f"required zones {missing} are not zones of this camera")
        self.zones = tuple(zones)
        self.required = frozenset(required)
        self._tracks: dict[int, _TrackZones] = {}

    @property
    def requires(self) -> bool:
        """Whether objects must qualify in a required zone to trigger."""
        return bool(self.required)

    def update(self, now: float, detections: Detections, labels: Sequence[str],
               width: int, height: int) -> ZoneVerdict:
        """One detection frame's verdict; tracks keep their entry times across frames."""
        n = len(detections)
        ones = np.ones(n, bool)
        if not self.zones or width <= 0 or height <= 0:
            return ZoneVerdict([()] * n, ones, ones if not self.required else ~ones)
        inside = [self._inside(detections.xyxy[i], labels[i], width, height) for i in range(n)]
        in_required = np.asarray([bool(self.required.intersection(z)) for z in inside], bool)
        if not self.required:
            qualified, in_required = ones, ones
        else:
            qualified = in_required.copy()
        if detections.tracker_id is not None:
            for i, track_id in enumerate(detections.tracker_id.tolist()):
                state = self._tracks.setdefault(int(track_id), _TrackZones())
                state.last_seen = now
                state.since = {name: state.since.get(name, now) for name in inside[i]}
                if self.required and not state.qualified:
                    state.qualified = self._qualifies(state, now)
                if self.required:
                    qualified[i] = state.qualified
        self._forget(now)
        return ZoneVerdict(inside, qualified, in_required)

    def _inside(self, box: np.ndarray, label: str, width: int, height: int) -> tuple[str, ...]:
        x, y = bottom_centre(box, width, height)
        return tuple(z.name for z in self.zones if z.counts(label) and contains(z.polygon, x, y))

    def _qualifies(self, state: _TrackZones, now: float) -> bool:
        for zone in self.zones:
            if zone.name not in self.required or zone.name not in state.since:
                continue
            if zone.loiter_seconds is None or now - state.since[zone.name] >= zone.loiter_seconds:
                return True
        return False

    def _forget(self, now: float) -> None:
        stale = [tid for tid, s in self._tracks.items() if now - s.last_seen > FORGET_TRACK_S]
        for track_id in stale:
            del self._tracks[track_id]
