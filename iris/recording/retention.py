"""Retention of the recording store, every rule in one place (no Ray).

- Continuous footage expires after its camera's `continuous_days`; a camera with 0 keeps only
  the live pre-roll buffer (`segment_retention_seconds`, at least its `pre_seconds` plus a
  segment) beyond what events need.
- Footage under an event (first seen - pre … last seen + post) lives as long as the event,
  which expires after its camera's `retention_days` (0 = forever); an event still recording,
  or younger than the floor (`retention_floor_hours`, from its end), is never deleted, and
  neither is its footage.
- `storage_max_gb` and the free-disk floor (`storage_min_free_gb` / `_percent`) count and
  delete only recordings: first the clip cache (rebuildable), then continuous footage, oldest
  first, then the oldest events with their footage; the newest footage (younger than the
  floor or the live buffer) is kept.
- Cut-on-demand clips are evicted after `clip_cache_hours` unread.

Rows and files go together: rows in a transaction, files after its commit (`iris.db.purge`),
so the index never points at a file retention removed.
"""

from __future__ import annotations

import logging
import time
from bisect import bisect_left
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import ColumnElement, delete, func, select
from sqlalchemy.engine import Engine
from sqlmodel import Session, col

from iris.db.purge import delete_after_commit, delete_events, event_files
from iris.db.tables import Camera, Event, RecordingGap, RecordingSegment
from iris.layout import Layout
from iris.recording.storage import (
    GB,
    DiskSpace,
    disk_space,
    min_free_bytes,
    size_text,
    storage_usage,
)
from iris.settings import Settings

log = logging.getLogger("iris.retention")

BATCH = 500
#: A pass deletes at most this many expired segments per camera; the next pass goes on.
MAX_EXPIRED_PER_PASS = 5000
#: Beyond pre_seconds and a segment, the live buffer keeps this long for an event to open.
OPEN_MARGIN_S = 10.0
#: Partial builds of a clip still recording are dropped this long after they were made.
PARTIAL_CLIP_MAX_S = 600.0
DAY = 86400.0
FOREVER = float("inf")


@dataclass(frozen=True)
class RetentionPolicy:
    """The global retention settings, resolved once."""

    cap_bytes: int = 0
    floor_hours: float = 1.0
    min_free_gb: float = 0.0
    min_free_percent: float = 0.0
    live_buffer_seconds: float = 300.0
    segment_seconds: float = 6.0
    clip_cache_hours: float = 24.0

    @classmethod
    def from_settings(cls, settings: Settings) -> RetentionPolicy:
        return cls(cap_bytes=int(settings.storage_max_gb * GB),
                   floor_hours=settings.retention_floor_hours,
                   min_free_gb=settings.storage_min_free_gb,
                   min_free_percent=settings.storage_min_free_percent,
                   live_buffer_seconds=settings.segment_retention_seconds,
                   segment_seconds=settings.segment_seconds,
                   clip_cache_hours=settings.clip_cache_hours)

    def live_buffer(self, pre_seconds: float) -> float:
        """How far back an events-only camera keeps footage for the pre-roll of new events."""
        return max(self.live_buffer_seconds, pre_seconds + self.segment_seconds + OPEN_MARGIN_S)

    def floor_bytes(self, disk: DiskSpace) -> int:
        return min_free_bytes(disk.total, min_free_gb=self.min_free_gb,
                              min_free_percent=self.min_free_percent)


@dataclass
class RetentionReport:
    expired_events: int = 0
    expired_segments: int = 0
    capped_events: int = 0
    capped_segments: int = 0
    evicted_clips: int = 0
    usage_bytes: int = 0  # recordings after the pass
    other_bytes: int = 0  # what the cap does not count
    cap_bytes: int = 0
    free_bytes: int = 0
    floor_bytes: int = 0
    over_cap_unfreeable: bool = False  # the files retention may not delete exceed the cap


class Protection:
    """The time ranges of one camera that events still need (merged, sorted)."""

    def __init__(self, ranges: Iterable[tuple[float, float]]) -> None:
        merged: list[tuple[float, float]] = []
        for start, end in sorted(ranges):
            if merged and start <= merged[-1][1]:
                merged[-1] = (merged[-1][0], max(merged[-1][1], end))
            else:
                merged.append((start, end))
        self._ranges = merged
        self._starts = [start for start, _ in merged]

    def covers(self, start: float, end: float) -> bool:
        """True when [start, end] overlaps a needed range."""
        index = bisect_left(self._starts, end)
        return index > 0 and self._ranges[index - 1][1] > start


def protections(session: Session, *, before: float | None = None) -> dict[int, Protection]:
    """Camera id → the footage its events need (every event that has a range; one still
    recording needs everything from its start on). `before`: only ranges starting earlier."""
    query = select(col(Event.camera_id), col(Event.clip_start), col(Event.clip_end)).where(
        col(Event.clip_start).is_not(None))
    if before is not None:
        query = query.where(col(Event.clip_start) < before)
    ranges: dict[int, list[tuple[float, float]]] = {}
    for camera_id, start, end in session.execute(query).all():
        ranges.setdefault(camera_id, []).append((start, FOREVER if end is None else end))
    return {camera_id: Protection(found) for camera_id, found in ranges.items()}


def _deletable_events(floor_cutoff: datetime) -> list[ColumnElement[bool]]:
    # "Younger" counts from the event's end: a long presence that ended a minute ago is recent.
    return [col(Event.in_progress).is_(False),
            func.coalesce(col(Event.end_ts), col(Event.ts)) < floor_cutoff]


def expire_events(engine: Engine, root: Path, now: datetime, floor_hours: float) -> int:
    """Delete finished events older than their camera's retention_days (0 keeps forever)."""
    floor_cutoff = now - timedelta(hours=floor_hours)
    deleted = 0
    with Session(engine) as session:
        cameras = session.execute(select(col(Camera.id), col(Camera.retention_days))).all()
        for camera_id, days in cameras:
            if not days:
                continue
            ids = session.execute(select(col(Event.id)).where(
                col(Event.camera_id) == camera_id, col(Event.ts) < now - timedelta(days=days),
                *_deletable_events(floor_cutoff))).scalars().all()
            deleted += delete_events(session, root, ids)
        session.commit()
    return deleted


def delete_segment_rows(session: Session, root: Path, rows: list[tuple[int, str]]) -> None:
    """Delete index rows `(id, relative path)`; their files go after the commit."""
    for first in range(0, len(rows), BATCH):
        part = rows[first:first + BATCH]
        session.execute(delete(RecordingSegment).where(
            col(RecordingSegment.id).in_([row_id for row_id, _ in part])))
        for _, relative in part:
            delete_after_commit(session, root / relative)


def expire_segments(engine: Engine, root: Path, policy: RetentionPolicy, now: float) -> int:
    """Delete footage past its camera's continuous_days (or live buffer) that no event needs."""
    deleted = 0
    with Session(engine) as session:
        cameras = session.execute(select(
            col(Camera.id), col(Camera.continuous_days), col(Camera.pre_seconds))).all()
        for camera_id, days, pre in cameras:
            keep = days * DAY if days else policy.live_buffer(pre)
            cutoff = now - keep
            needed = protections(session, before=cutoff).get(camera_id, Protection(()))
            doomed: list[tuple[int, str]] = []
            after = float("-inf")
            while len(doomed) < MAX_EXPIRED_PER_PASS:
                rows = session.execute(
                    select(col(RecordingSegment.id), col(RecordingSegment.start),
                           col(RecordingSegment.end), col(RecordingSegment.path))
                    .where(col(RecordingSegment.camera_id) == camera_id,
                           col(RecordingSegment.end) < cutoff,
                           col(RecordingSegment.start) > after)
                    .order_by(col(RecordingSegment.start)).limit(BATCH)).all()
                if not rows:
                    break
                after = rows[-1][1]
                doomed += [(row_id, path) for row_id, start, end, path in rows
                           if not needed.covers(start, end)]
            delete_segment_rows(session, root, doomed)
            session.commit()
            deleted += len(doomed)
    return deleted


def _cache_files(layout: Layout) -> list[tuple[float, Path]]:
    found = []
    for folder in layout.clip_caches():
        for path in folder.glob("*.mp4"):
            try:
                found.append((path.stat().st_mtime, path))
            except FileNotFoundError:
                continue
    return sorted(found)


def evict_clip_cache(layout: Layout, policy: RetentionPolicy, now: float) -> int:
    """Drop cut-on-demand clips unread for clip_cache_hours (partial builds after 10 min)."""
    removed = 0
    for mtime, path in _cache_files(layout):
        limit = PARTIAL_CLIP_MAX_S if ".upto-" in path.name else policy.clip_cache_hours * 3600
        if mtime < now - limit:
            path.unlink(missing_ok=True)
            removed += 1
    return removed


def prune_gaps(engine: Engine, now: float) -> int:
    """Forget gaps older than everything their camera keeps (its continuous and event days)."""
    removed = 0
    with Session(engine) as session:
        cameras = session.execute(select(
            col(Camera.id), col(Camera.continuous_days), col(Camera.retention_days))).all()
        for camera_id, continuous, events in cameras:
            if not events:
                continue  # events kept forever: so are the gaps around them
            keep = max(continuous, events, 1) * DAY
            result = session.execute(delete(RecordingGap).where(
                col(RecordingGap.camera_id) == camera_id, col(RecordingGap.end) < now - keep))
            removed += int(getattr(result, "rowcount", 0) or 0)
        session.commit()
    return removed


def free_space(engine: Engine, layout: Layout, policy: RetentionPolicy, *, need: int,
               now: float) -> tuple[int, int, int]:
    """Delete recordings until `need` bytes are freed: the clip cache, then unprotected
    footage oldest first, then the oldest events (which unprotects their footage).

    Returns (events deleted, segments deleted, bytes freed).
    """
    freed = 0
    for _, path in _cache_files(layout):
        if freed >= need:
            break
        try:
            size = path.stat().st_size
            path.unlink()
        except FileNotFoundError:
            continue
        freed += size
    young = now - max(policy.floor_hours * 3600, policy.live_buffer_seconds)
    floor_cutoff = datetime.fromtimestamp(now, UTC) - timedelta(hours=policy.floor_hours)
    gained, segments = _free_footage(engine, layout.root, need - freed, young)
    freed += gained
    events = 0
    while freed < need:
        # One event at a time, oldest first: its files, then the footage only it needed.
        with Session(engine) as session:
            oldest = session.execute(
                select(Event).where(*_deletable_events(floor_cutoff))
                .order_by(col(Event.ts)).limit(1)).scalars().first()
            if oldest is None or oldest.id is None:
                break
            freed += sum(_size(path) for path in event_files(layout.root, oldest))
            events += delete_events(session, layout.root, [oldest.id])
            session.commit()
        if oldest.clip_start is not None:
            within = (oldest.camera_id, oldest.clip_start,
                      FOREVER if oldest.clip_end is None else oldest.clip_end)
            gained, count = _free_footage(engine, layout.root, need - freed, young, within)
            freed, segments = freed + gained, segments + count
    return events, segments, freed


def _size(path: Path) -> int:
    try:
        return path.stat().st_size
    except OSError:
        return 0


def _free_footage(engine: Engine, root: Path, need: int, young: float,
                  within: tuple[int, float, float] | None = None) -> tuple[int, int]:
    """Delete the oldest footage no event needs (all cameras, or one camera's range
    `within`) until `need` bytes are freed; returns (bytes freed, segments deleted)."""
    freed = count = 0
    after = float("-inf")
    scope: list[ColumnElement[bool]] = []
    if within is not None:
        camera_id, start, end = within
        scope = [col(RecordingSegment.camera_id) == camera_id,
                 col(RecordingSegment.end) > start, col(RecordingSegment.start) < end]
    with Session(engine) as session:
        needed = protections(session, before=young)
        while freed < need:
            rows = session.execute(
                select(col(RecordingSegment.id), col(RecordingSegment.camera_id),
                       col(RecordingSegment.start), col(RecordingSegment.end),
                       col(RecordingSegment.path), col(RecordingSegment.bytes))
                .where(col(RecordingSegment.end) < young, col(RecordingSegment.start) > after,
                       *scope)
                .order_by(col(RecordingSegment.start)).limit(BATCH)).all()
            if not rows:
                break
            after = rows[-1][2]
            doomed: list[tuple[int, str]] = []
            for row_id, camera_id, start, end, path, size in rows:
                protection = needed.get(camera_id)
                if protection is not None and protection.covers(start, end):
                    continue
                doomed.append((row_id, path))
                freed += size
                if freed >= need:
                    break
            delete_segment_rows(session, root, doomed)
            session.commit()
            count += len(doomed)
    return freed, count


def enforce(engine: Engine, root: Path, policy: RetentionPolicy,
            now: datetime | None = None) -> RetentionReport:
    """One full retention pass: ages (events, footage, gaps, clip cache), then the storage cap
    and the free-disk floor on recordings."""
    now = now or datetime.now(UTC)
    epoch = now.timestamp()
    layout = Layout(root)
    report = RetentionReport(cap_bytes=policy.cap_bytes)
    report.expired_events = expire_events(engine, root, now, policy.floor_hours)
    report.expired_segments = expire_segments(engine, root, policy, epoch)
    report.evicted_clips = evict_clip_cache(layout, policy, epoch)
    prune_gaps(engine, epoch)
    usage = storage_usage(engine, root)
    report.usage_bytes, report.other_bytes = usage.recordings, usage.other_bytes
    need = 0
    if policy.cap_bytes and usage.other_bytes > policy.cap_bytes:
        # Deleting recordings cannot fix this; the cap is smaller than what must stay.
        report.over_cap_unfreeable = True
        log.error("retention: files retention may not delete take %s, more than the %s "
                  "storage cap (%s): the cap deletes nothing. Raise storage_max_gb or move "
                  "them off the data root.", size_text(usage.other_bytes),
                  size_text(policy.cap_bytes), usage.largest_other())
    elif policy.cap_bytes:
        need = max(0, usage.recordings - policy.cap_bytes)
    disk = disk_space(root)
    report.floor_bytes = policy.floor_bytes(disk)
    need = max(need, disk.shortfall(report.floor_bytes))
    if need:
        report.capped_events, report.capped_segments, freed = free_space(
            engine, layout, policy, need=need, now=epoch)
        report.usage_bytes -= freed
        if freed < need:
            log.warning("retention: %s still to free, but what is left is recording now or "
                        "younger than %g h", size_text(need - freed), policy.floor_hours)
    report.free_bytes = disk_space(root).free
    if report.expired_events or report.capped_events or report.capped_segments:
        log.info("retention: %d expired events, %d expired segments; %d events and %d "
                 "segments deleted for space; recordings take %s, %s free",
                 report.expired_events, report.expired_segments, report.capped_events,
                 report.capped_segments, size_text(report.usage_bytes),
                 size_text(report.free_bytes))
    return report


def enforce_floor(engine: Engine, root: Path, policy: RetentionPolicy,
                  now: float | None = None) -> tuple[int, int]:
    """The frequent pass: expire footage and keep the free-disk floor (no tree walks).

    Returns (segments expired, segments deleted for space).
    """
    now = time.time() if now is None else now
    expired = expire_segments(engine, root, policy, now)
    disk = disk_space(root)
    need = disk.shortfall(policy.floor_bytes(disk))
    spaced = 0
    if need:
        events, spaced, freed = free_space(engine, Layout(root), policy, need=need, now=now)
        global _last_floor_warning
        if spaced or events or time.monotonic() - _last_floor_warning > FLOOR_WARN_EVERY_S:
            _last_floor_warning = time.monotonic()
            log.warning("retention: the disk is nearly full (%s free, floor %s): deleted %d "
                        "segments and %d events, %s%s", size_text(disk.free),
                        size_text(policy.floor_bytes(disk)), spaced, events, size_text(freed),
                        "" if freed >= need else "; what is left is recording now or younger "
                        "than the floor")
    return expired, spaced


FLOOR_WARN_EVERY_S = 600.0
_last_floor_warning = float("-inf")
