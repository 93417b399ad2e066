"""Recording store bodies: coverage of a range, a day's summary by hour."""

from __future__ import annotations

from datetime import UTC, date, datetime

from pydantic import BaseModel, Field

from iris.recording.queries import Coverage, HourSummary


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
