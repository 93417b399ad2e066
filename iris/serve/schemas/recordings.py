"""Recording store bodies: coverage of a range, a day's summary by hour."""

from __future__ import annotations

from datetime import UTC, date, datetime

from pydantic import BaseModel, Field

from iris.recording.queries import CameraRecordingStats, Coverage, HourSummary
from iris.recording.storage import GB


def _dt(epoch: float) -> datetime:
    return datetime.fromtimestamp(epoch, UTC)


class TimeSpan(BaseModel):
    """[start, end) in ISO time."""

    start: datetime
    end: datetime


class RecordingsCoverage(BaseModel):
    """GET /api/recordings: what a camera recorded in [from, to)."""

    camera_id: int
    from_: datetime = Field(alias="from", serialization_alias="from")
    to: datetime
    spans: list[TimeSpan] = Field(description="Recorded footage, merged where continuous")
    gaps: list[TimeSpan] = Field(description="Outages recorded in the range (offline, writer "
                                             "failure, restart), once recording resumed")
    recorded_seconds: float

    @classmethod
    def of(cls, coverage: Coverage) -> RecordingsCoverage:
        return cls.model_validate({
            "camera_id": coverage.camera_id, "from": _dt(coverage.start),
            "to": _dt(coverage.end),
            "spans": [TimeSpan(start=_dt(s), end=_dt(e)) for s, e in coverage.spans],
            "gaps": [TimeSpan(start=_dt(s), end=_dt(e)) for s, e in coverage.gaps],
            "recorded_seconds": coverage.recorded_seconds})


class HourPublic(BaseModel):
    """One hour of the day's timeline."""

    start: datetime
    recorded_seconds: float
    gap_seconds: float
    events: int
    labels: dict[str, int] = Field(description="Events started in the hour, by label")

    @classmethod
    def of(cls, hour: HourSummary) -> HourPublic:
        return cls(start=_dt(hour.start), recorded_seconds=hour.recorded_seconds,
                   gap_seconds=hour.gap_seconds, events=hour.events, labels=hour.labels)


class DaySummary(BaseModel):
    """GET /api/recordings/summary: a camera's day, hour by hour (local to `tz`)."""

    camera_id: int
    day: date
    tz: str
    recorded_seconds: float
    events: int
    hours: list[HourPublic]

    @classmethod
    def of(cls, camera_id: int, day: date, tz: str, hours: list[HourSummary]) -> DaySummary:
        return cls(camera_id=camera_id, day=day, tz=tz,
                   recorded_seconds=round(sum(h.recorded_seconds for h in hours), 3),
                   events=sum(h.events for h in hours), hours=[HourPublic.of(h) for h in hours])


class CameraStorage(BaseModel):
    """One camera's recordings in /api/system: size, span held, rate, coverage."""

    camera_id: int
    bytes: int
    gb: float
    segments: int
    oldest: datetime | None
    newest: datetime | None
    days_held: float
    gb_per_day: float = Field(description="Recorded in the last 24 h")
    coverage_today: float | None = Field(
        description="Share of today (UTC, since the camera was added) that was recorded")
    gap_seconds: float = Field(description="Not recorded (outages, restarts), retained history")

    @classmethod
    def of(cls, stats: CameraRecordingStats) -> CameraStorage:
        return cls(camera_id=stats.camera_id, bytes=stats.bytes,
                   gb=round(stats.bytes / GB, 3), segments=stats.segments,
                   oldest=None if stats.oldest is None else _dt(stats.oldest),
                   newest=None if stats.newest is None else _dt(stats.newest),
                   days_held=stats.days_held, gb_per_day=round(stats.bytes_last_day / GB, 3),
                   coverage_today=stats.coverage_today, gap_seconds=stats.gap_seconds)


class RecordingStatus(BaseModel):
    """The recording store in /api/system: the disk, the floor and cap, each camera."""

    disk_total_bytes: int
    disk_free_bytes: int
    min_free_bytes: int = Field(description="The free-disk floor retention keeps")
    cap_bytes: int = Field(description="storage_max_gb; 0 = none")
    recordings_bytes: int = Field(description="Indexed footage (clips and thumbnails apart)")
    cameras: list[CameraStorage]
