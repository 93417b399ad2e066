"""Reads over the recording store for the API: coverage of a range, a day's summary by hour,
storage and coverage per camera (no Ray). Keyword-only functions over a session.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from datetime import time as day_time
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.engine import Engine
from sqlmodel import Session, col

from iris.db.scope import camera_scope
from iris.db.tables import Camera, Event, RecordingGap, RecordingSegment
from iris.recording.index import merge_spans, spans_between

Span = tuple[float, float]
HOUR = 3600.0
DAY = 86400.0
STATS_TTL_S = 60.0


@dataclass(frozen=True)
class Coverage:
    """What a camera recorded in [start, end): merged spans, recorded gaps, seconds."""

    camera_id: int
    start: float
    end: float
    spans: list[Span]
    gaps: list[Span]
    recorded_seconds: float


def _clip(spans: list[Span], start: float, end: float) -> list[Span]:
    return [(max(s, start), min(e, end)) for s, e in spans if e > start and s < end]


def gaps_between(session: Session, *, camera_id: int, start: float, end: float) -> list[Span]:
    """Recorded gaps of the camera overlapping [start, end), clipped to it, merged."""
    rows = session.execute(
        select(col(RecordingGap.start), col(RecordingGap.end))
        .where(col(RecordingGap.camera_id) == camera_id, col(RecordingGap.start) < end,
               col(RecordingGap.end) > start)).all()
    return merge_spans(_clip([(s, e) for s, e in rows], start, end), tolerance=0)


def coverage(session: Session, *, camera_id: int, start: float, end: float) -> Coverage:
    """Merged coverage of [start, end) for one camera."""
    footage = _clip(spans_between(session, camera_id=camera_id, start=start, end=end),
                    start, end)
    return Coverage(camera_id=camera_id, start=start, end=end, spans=merge_spans(footage),
                    gaps=gaps_between(session, camera_id=camera_id, start=start, end=end),
                    recorded_seconds=round(sum(e - s for s, e in footage), 3))


@dataclass
class HourSummary:
    """One hour of a day's timeline."""

    start: float
    recorded_seconds: float = 0.0
    gap_seconds: float = 0.0
    events: int = 0
    labels: dict[str, int] = field(default_factory=dict)


def day_bounds(day: date, zone: ZoneInfo) -> tuple[float, float]:
    """Epoch seconds of the day's first instant and of the next day's, in `zone`."""
    first = datetime.combine(day, day_time(0), zone)
    following = datetime.combine(day + timedelta(days=1), day_time(0), zone)
    return first.timestamp(), following.timestamp()


def _spread(hours: list[HourSummary], spans: list[Span], attribute: str) -> None:
    for start, end in spans:
        index = max(0, int((start - hours[0].start) // HOUR))
        while index < len(hours) and hours[index].start < end:
            hour = hours[index]
            overlap = min(end, hour.start + HOUR) - max(start, hour.start)
            if overlap > 0:
                setattr(hour, attribute, getattr(hour, attribute) + overlap)
            index += 1


def day_summary(session: Session, *, camera_id: int, day: date,
                zone: ZoneInfo) -> list[HourSummary]:
    """Per hour of `day` (local to `zone`; 23 or 25 hours on DST days): recorded seconds,
    gap seconds, and events started in it (by label)."""
    start, end = day_bounds(day, zone)
    hours = [HourSummary(start + i * HOUR) for i in range(round((end - start) / HOUR))]
    footage = _clip(spans_between(session, camera_id=camera_id, start=start, end=end),
                    start, end)
    _spread(hours, footage, "recorded_seconds")
    _spread(hours, gaps_between(session, camera_id=camera_id, start=start, end=end),
            "gap_seconds")
    events = session.execute(
        select(col(Event.ts), col(Event.label)).where(
            col(Event.camera_id) == camera_id,
            col(Event.ts) >= datetime.fromtimestamp(start, UTC),
            col(Event.ts) < datetime.fromtimestamp(end, UTC))).all()
    for ts, label in events:
        index = int((ts.timestamp() - start) // HOUR)
        if 0 <= index < len(hours):
            hours[index].events += 1
            hours[index].labels[label] = hours[index].labels.get(label, 0) + 1
    for hour in hours:
        hour.recorded_seconds = round(hour.recorded_seconds, 3)
        hour.gap_seconds = round(hour.gap_seconds, 3)
    return hours


@dataclass(frozen=True)
class CameraRecordingStats:
    """Storage and coverage of one camera's recordings."""

    camera_id: int
    bytes: int
    segments: int
    oldest: float | None
    newest: float | None
    bytes_last_day: int
    gap_seconds: float
    coverage_today: float | None

    @property
    def days_held(self) -> float:
        if self.oldest is None or self.newest is None:
            return 0.0
        return round((self.newest - self.oldest) / DAY, 3)


def camera_stats(session: Session, *, now: float,
                 stale_after: float) -> dict[int, CameraRecordingStats]:
    """Every camera's recordings: size, span held, last day's size, gaps, today's coverage.

    Today's coverage is 1 - (gaps + an ongoing outage) / (time since midnight UTC, or since
    the camera was created): an enabled camera whose footage ends more than `stale_after`
    ago is not recording now, and that time counts as not recorded.
    """
    totals = {row[0]: row[1:] for row in session.execute(
        select(col(RecordingSegment.camera_id), func.sum(col(RecordingSegment.bytes)),
               func.count(), func.min(col(RecordingSegment.start)),
               func.max(col(RecordingSegment.end)))
        .group_by(col(RecordingSegment.camera_id))).all()}
    recent = dict(session.execute(
        select(col(RecordingSegment.camera_id), func.sum(col(RecordingSegment.bytes)))
        .where(col(RecordingSegment.start) >= now - DAY)
        .group_by(col(RecordingSegment.camera_id))).all())
    gap_totals = dict(session.execute(
        select(col(RecordingGap.camera_id),
               func.sum(col(RecordingGap.end) - col(RecordingGap.start)))
        .group_by(col(RecordingGap.camera_id))).all())
    midnight = datetime.fromtimestamp(now, UTC).replace(hour=0, minute=0, second=0,
                                                        microsecond=0).timestamp()
    stats = {}
    for camera_id, enabled, created in session.execute(
            select(col(Camera.id), col(Camera.enabled), col(Camera.created_at))).all():
        size, count, oldest, newest = totals.get(camera_id, (0, 0, None, None))
        born = created.timestamp() if created else midnight
        window_start = min(now, max(midnight, born))
        unrecorded = sum(e - s for s, e in gaps_between(
            session, camera_id=camera_id, start=window_start, end=now))
        outage_from = now  # an enabled camera whose footage stopped is not recording now
        if enabled and (newest is None or newest < now - stale_after):
            outage_from = min(now, newest if newest is not None else born)
        window = now - window_start
        today = None
        if window > 0:
            unrecorded += now - max(window_start, outage_from)
            today = round(max(0.0, 1 - unrecorded / window), 4)
        stats[camera_id] = CameraRecordingStats(
            camera_id=camera_id, bytes=int(size or 0), segments=int(count or 0),
            oldest=oldest, newest=newest, bytes_last_day=int(recent.get(camera_id) or 0),
            gap_seconds=round(float(gap_totals.get(camera_id) or 0.0) + now - outage_from, 3),
            coverage_today=today)
    return stats


class StatsCache:
    """`camera_stats` of each database (and camera scope), refreshed in the background.

    It sums the whole index (2.3 s at 30 days × 16 cameras of 6 s segments on this box), so
    only the first request waits for it: later ones get the last sums (at most `ttl` and a
    refresh old) while a thread computes the next.
    """

    def __init__(self, ttl: float = STATS_TTL_S) -> None:
        self.ttl = ttl
        self._lock = threading.Lock()
        self._values: dict[str, tuple[float, dict[int, CameraRecordingStats]]] = {}
        self._refreshing: set[str] = set()

    def get(self, engine: Engine, *, stale_after: float) -> dict[int, CameraRecordingStats]:
        # Per camera scope too: a viewer's engine sees only their cameras' rows (iris.db.scope).
        scope = camera_scope(engine)
        key = engine.url.render_as_string(hide_password=True) + (
            "" if scope is None else f"|cameras={sorted(scope)}")
        with self._lock:
            found = self._values.get(key)
            fresh = found is not None and time.monotonic() - found[0] < self.ttl
            if found is not None and (fresh or key in self._refreshing):
                return found[1]
            self._refreshing.add(key)
        if found is None:
            return self._refresh(key, engine, stale_after)
        threading.Thread(target=self._refresh, args=(key, engine, stale_after),
                         name="recording-stats", daemon=True).start()
        return found[1]

    def _refresh(self, key: str, engine: Engine,
                 stale_after: float) -> dict[int, CameraRecordingStats]:
        try:
            with Session(engine) as session:
                value = camera_stats(session, now=time.time(), stale_after=stale_after)
            with self._lock:
                self._values[key] = (time.monotonic(), value)
            return value
        finally:
            with self._lock:
                self._refreshing.discard(key)
