"""Presence segments: how long an identity dwelt on each camera, folded from its sightings.

Interval arithmetic over epoch seconds only; `iris.identity.store` reads the sightings and
writes the `PresenceSegment` rows.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass


@dataclass(frozen=True)
class Span:
    """One stay on one camera, in epoch seconds."""

    camera_id: int
    start: float
    end: float

    @property
    def seconds(self) -> float:
        """How long the stay lasted."""
        return self.end - self.start


def fold(sightings: Iterable[tuple[int, float, float]], gap_s: float) -> list[Span]:
    """Stays made of ``(camera_id, start, end)`` sightings ordered by camera, then start.

    Sightings on one camera at most ``gap_s`` apart are one stay; a camera change starts a new
    one.
    """
    spans: list[Span] = []
    current: Span | None = None
    for camera_id, start, end in sightings:
        if current is not None and (camera_id != current.camera_id
                                    or start > current.end + gap_s):
            spans.append(current)
            current = None
        if current is None:
            current = Span(camera_id, start, max(start, end))
        else:
            current = Span(camera_id, current.start, max(current.end, end))
    if current is not None:
        spans.append(current)
    return spans
