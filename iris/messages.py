"""Typed messages that cross a Ray hop (camera → manager → ingress), no Ray import.

`CameraState` is a camera's heartbeat as the WorkerManager keeps it and the ingress reads it;
`RecordResult` is what a camera answers to a manual recording's stop. Their `as_dict()` is the
JSON the API has always shown (`/api/system` workers, `record/stop`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass, fields, replace
from typing import Any

#: Keys of a heartbeat that are left out of `as_dict()` when not reported (a camera that is
#: still connecting has no counters yet, and the API has never shown them as zero).
_OPTIONAL = ("frames_decoded", "frames_dropped", "frames_not_decoded", "detections",
             "detections_cropped", "skipped_static", "detect_latency_ms", "jpeg_encodes",
             "events", "reid_sent", "pid", "node")


@dataclass(frozen=True)
class CameraState:
    """One camera worker's live state: status, when it last saw a frame, rates and counters.

    `last_seen` is epoch seconds. Counters and placement (`pid`, `node`) are None until the
    camera's first heartbeat; `name` is the camera's, added by the manager.
    """

    status: str
    last_seen: float
    fps: float = 0.0
    detector: str | None = None
    reason: str | None = None
    name: str = ""
    frames_decoded: int | None = None
    frames_dropped: int | None = None
    frames_not_decoded: int | None = None  # recorded, not decoded: the camera was idle
    detections: int | None = None
    detections_cropped: int | None = None  # run on the moving region, not the whole frame
    skipped_static: int | None = None
    detect_latency_ms: float | None = None
    jpeg_encodes: int | None = None
    events: int | None = None
    reid_sent: int | None = None
    pid: int | None = None
    node: str | None = None

    @classmethod
    def from_report(cls, report: Mapping[str, Any], **extra: Any) -> CameraState:
        """A worker's `state()` dict (plus `extra`, e.g. placement) as a state.

        Raises:
            TypeError: the report holds a key this type does not know (add it here first).
        """
        known = {f.name for f in fields(cls)}
        values = {**report, **extra}
        unknown = sorted(set(values) - known)
        if unknown:
            raise TypeError(f"unknown camera state keys: {', '.join(unknown)}")
        return cls(**values)

    def named(self, name: str) -> CameraState:
        """The same state carrying the camera's name."""
        return replace(self, name=name)

    def as_dict(self) -> dict[str, Any]:
        """The state as the API shows it (unreported counters left out)."""
        data = asdict(self)
        for key in _OPTIONAL:
            if data[key] is None:
                del data[key]
        return data


@dataclass(frozen=True)
class RecordResult:
    """A manual recording's stop: the saved event, or why nothing was saved (`error`)."""

    event_id: int | None = None
    clip: str | None = None
    duration: float = 0.0
    error: str | None = None

    @classmethod
    def from_report(cls, report: Mapping[str, Any]) -> RecordResult:
        """The worker's answer (`{"error": …}` or `{"event_id", "clip", "duration"}`)."""
        return cls(**report)

    @property
    def saved(self) -> bool:
        """True when an event and its clip were saved."""
        return self.error is None and self.event_id is not None and self.clip is not None
