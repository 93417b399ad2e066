"""Storage retention (no Ray): per-camera event age and a cap on the recordings' size.

The cap counts only what retention may delete: recordings (clips, thumbnails and the segment
buffer), never models, the database, enrollment photos, identity crops, HLS or anything else
under the data root. Oldest media goes first, always together with its rows (the same purge as
operator deletes), so the DB never points at files that retention removed. Three things are
never deleted, by age or by the cap: an event still recording, an event younger than the floor,
and a segment an open event will be cut from.
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import ColumnElement, func, select
from sqlalchemy.engine import Engine
from sqlmodel import Session, col

from iris.actors.segments import Segment
from iris.db.purge import delete_events
from iris.db.tables import Camera, Event
from iris.settings import Settings

log = logging.getLogger("iris.retention")

BATCH = 50
RECORDING_KINDS = ("clips", "thumbs", "segments")
"""Folders of the data root that hold recordings: the only media retention deletes."""
DEFAULT_FLOOR_HOURS: float = Settings.model_fields["retention_floor_hours"].default
SPACE_REPORT_ENTRIES = 5
GB = 1e9


@dataclass
class StorageUsage:
    """Bytes under the data root: recordings (what the cap counts) and everything else."""

    recordings: int = 0
    other: dict[str, int] = field(default_factory=dict)  # top-level name → bytes

    @property
    def other_bytes(self) -> int:
        return sum(self.other.values())

    def largest_other(self, entries: int = SPACE_REPORT_ENTRIES) -> str:
        """`models 3.1 GB, iris.db 0.2 GB, …`: what takes the space retention may not free."""
        biggest = sorted(self.other.items(), key=lambda item: -item[1])[:entries]
        return ", ".join(f"{name} {_size(size)}" for name, size in biggest)


def _size(count: float) -> str:
    return f"{count / GB:.1f} GB" if count >= GB / 10 else f"{count / 1e6:.1f} MB"


@dataclass
class RetentionReport:
    expired_events: int = 0
    capped_events: int = 0
    capped_segments: int = 0
    usage_bytes: int = 0  # recordings after the pass
    other_bytes: int = 0  # what the cap does not count
    cap_bytes: int = 0
    over_cap_unfreeable: bool = False  # the files retention may not delete exceed the cap


def storage_usage(root: Path) -> StorageUsage:
    """Walk the data root once, splitting recordings from everything else."""
    usage = StorageUsage()
    try:
        entries = list(os.scandir(root))
    except FileNotFoundError:
        return usage
    for entry in entries:
        size = _tree_bytes(Path(entry.path))
        if entry.name in RECORDING_KINDS and entry.is_dir(follow_symlinks=False):
            usage.recordings += size
        else:
            usage.other[entry.name] = size
    return usage


def disk_usage(root: Path) -> int:
    """Bytes of the recordings below `root`: what the cap counts."""
    return storage_usage(root).recordings


def _tree_bytes(path: Path) -> int:
    if not path.is_dir() or path.is_symlink():
        try:
            return path.lstat().st_size
        except FileNotFoundError:
            return 0
    total = 0
    for folder, _dirs, names in os.walk(path):
        for name in names:
            try:
                total += (Path(folder) / name).lstat().st_size
            except FileNotFoundError:
                continue
    return total


def _event_bytes(root: Path, event: Event) -> int:
    total = 0
    for relative in (event.clip_path, event.thumb_path):
        if relative:
            try:
                total += (root / relative).stat().st_size
            except OSError:
                pass
    return total


def _deletable(floor_cutoff: datetime) -> list[ColumnElement[bool]]:
    # "Younger" counts from the event's end: a long presence that ended a minute ago is recent.
    return [col(Event.in_progress).is_(False),
            func.coalesce(col(Event.end_ts), col(Event.ts)) < floor_cutoff]


def expire_by_age(engine: Engine, root: Path, now: datetime,
                  floor_hours: float = DEFAULT_FLOOR_HOURS) -> int:
    """Delete finished events older than their camera's retention_days (0 keeps forever)."""
    floor_cutoff = now - timedelta(hours=floor_hours)
    deleted = 0
    with Session(engine) as session:
        cameras = session.execute(
            select(col(Camera.id), col(Camera.retention_days))).all()
        for camera_id, days in cameras:
            if not days:
                continue
            cutoff = now - timedelta(days=days)
            ids = session.execute(select(col(Event.id)).where(
                col(Event.camera_id) == camera_id, col(Event.ts) < cutoff,
                *_deletable(floor_cutoff))).scalars().all()
            deleted += delete_events(session, root, ids)
        session.commit()
    return deleted


def enforce_cap(engine: Engine, root: Path, cap_bytes: int, usage: int | None = None, *,
                now: datetime | None = None,
                floor_hours: float = DEFAULT_FLOOR_HOURS) -> tuple[int, int, int]:
    """Remove the oldest events (then segments) until the recordings fit under `cap_bytes`.

    Returns (events deleted, segments deleted, recordings' bytes after).
    """
    usage = disk_usage(root) if usage is None else usage
    floor_cutoff = (now or datetime.now(UTC)) - timedelta(hours=floor_hours)
    events = segments = 0
    while usage > cap_bytes:
        with Session(engine) as session:
            oldest = session.execute(
                select(Event).where(*_deletable(floor_cutoff))
                .where(col(Event.clip_path).is_not(None) | col(Event.thumb_path).is_not(None))
                .order_by(col(Event.ts)).limit(BATCH)).scalars().all()
            if not oldest:
                break
            doomed, freed = [], 0
            for event in oldest:  # no more than it takes to get under the cap
                assert event.id is not None
                doomed.append(event.id)
                freed += _event_bytes(root, event)
                if usage - freed <= cap_bytes:
                    break
            events += delete_events(session, root, doomed)
            session.commit()
        usage -= freed
    if usage > cap_bytes:
        needed = open_event_starts(engine)
        for segment in _oldest_segments(root):
            if usage <= cap_bytes:
                break
            keep_from = needed.get(segment.path.parent.name)
            if keep_from is not None and segment.end > keep_from:
                continue  # an open event's clip will be cut from it
            try:
                size = segment.path.stat().st_size
                segment.path.unlink()
            except FileNotFoundError:
                continue
            usage -= size
            segments += 1
    return events, segments, usage


def open_event_starts(engine: Engine) -> dict[str, float]:
    """Camera folder name → the earliest epoch an in-progress event's clip will start at."""
    with Session(engine) as session:
        rows = session.execute(
            select(col(Event.camera_id), func.min(col(Event.ts)), col(Camera.pre_seconds))
            .join(Camera, col(Camera.id) == col(Event.camera_id))
            .where(col(Event.in_progress))
            .group_by(col(Event.camera_id), col(Camera.pre_seconds))).all()
    return {str(camera_id): first.timestamp() - pre for camera_id, first, pre in rows}


def _oldest_segments(root: Path) -> list[Segment]:
    found = (Segment.from_path(path) for path in (root / "segments").glob("*/*.mp4"))
    return sorted(segment for segment in found if segment is not None)


def enforce(engine: Engine, root: Path, *, cap_bytes: int,
            floor_hours: float = DEFAULT_FLOOR_HOURS,
            now: datetime | None = None) -> RetentionReport:
    """One retention pass: age first, then the size cap on recordings."""
    now = now or datetime.now(UTC)
    report = RetentionReport(cap_bytes=cap_bytes)
    report.expired_events = expire_by_age(engine, root, now, floor_hours)
    usage = storage_usage(root)
    report.usage_bytes, report.other_bytes = usage.recordings, usage.other_bytes
    if cap_bytes and usage.other_bytes > cap_bytes:
        # Deleting recordings cannot fix this; the cap is smaller than what must stay.
        report.over_cap_unfreeable = True
        log.error("retention: files retention may not delete take %s, more than the %s "
                  "storage cap (%s): deleting nothing. Raise storage_max_gb or move them off "
                  "the data root.", _size(usage.other_bytes), _size(cap_bytes),
                  usage.largest_other())
    elif cap_bytes and usage.recordings > cap_bytes:
        report.capped_events, report.capped_segments, report.usage_bytes = enforce_cap(
            engine, root, cap_bytes, usage.recordings, now=now, floor_hours=floor_hours)
        if report.usage_bytes > cap_bytes:
            log.warning("retention: recordings still take %s, over the %s cap; what is left "
                        "is recording now or younger than %g h", _size(report.usage_bytes),
                        _size(cap_bytes), floor_hours)
    if report.expired_events or report.capped_events or report.capped_segments:
        log.info("retention: %d expired events, %d events and %d segments over the %s cap; "
                 "recordings take %s", report.expired_events, report.capped_events,
                 report.capped_segments, _size(cap_bytes), _size(report.usage_bytes))
    return report
