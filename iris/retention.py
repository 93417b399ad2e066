"""Storage retention (no Ray): per-camera event age and a cap on the data root's size.

Oldest media goes first, always together with its rows (the same purge as operator deletes), so
the DB never points at files that retention removed and no file is left without its row.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.engine import Engine
from sqlmodel import Session, col

from iris.actors.segments import Segment
from iris.db.purge import delete_events
from iris.db.tables import Camera, Event

log = logging.getLogger("iris.retention")

BATCH = 50


@dataclass
class RetentionReport:
    expired_events: int = 0
    capped_events: int = 0
    capped_segments: int = 0
    usage_bytes: int = 0
    cap_bytes: int = 0


def disk_usage(root: Path) -> int:
    """Bytes of every file below `root` (what the cap counts)."""
    return sum(size for _, size in _files(root))


def _files(root: Path) -> Iterator[tuple[Path, int]]:
    for folder, _dirs, names in os.walk(root):
        for name in names:
            path = Path(folder) / name
            try:
                yield path, path.stat().st_size
            except FileNotFoundError:
                continue


def _event_bytes(root: Path, event: Event) -> int:
    total = 0
    for relative in (event.clip_path, event.thumb_path):
        if relative:
            try:
                total += (root / relative).stat().st_size
            except OSError:
                pass
    return total


def expire_by_age(engine: Engine, root: Path, now: datetime) -> int:
    """Delete finished events older than their camera's retention_days (0 keeps forever)."""
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
                col(Event.in_progress).is_(False))).scalars().all()
            deleted += delete_events(session, root, ids)
        session.commit()
    return deleted


def enforce_cap(engine: Engine, root: Path, cap_bytes: int,
                usage: int | None = None) -> tuple[int, int, int]:
    """Remove the oldest events (then segments) until the root fits under `cap_bytes`.

    Returns (events deleted, segments deleted, usage after).
    """
    usage = disk_usage(root) if usage is None else usage
    events = segments = 0
    while usage > cap_bytes:
        with Session(engine) as session:
            oldest = session.execute(
                select(Event).where(col(Event.in_progress).is_(False))
                .where(col(Event.clip_path).is_not(None) | col(Event.thumb_path).is_not(None))
                .order_by(col(Event.ts)).limit(BATCH)).scalars().all()
            if not oldest:
                break
            freed = sum(_event_bytes(root, event) for event in oldest)
            events += delete_events(session, root, [e.id for e in oldest if e.id is not None])
            session.commit()
        usage -= freed
    if usage > cap_bytes:
        for segment in _oldest_segments(root):
            if usage <= cap_bytes:
                break
            try:
                size = segment.path.stat().st_size
                segment.path.unlink()
            except FileNotFoundError:
                continue
            usage -= size
            segments += 1
    return events, segments, usage


def _oldest_segments(root: Path) -> list[Segment]:
    found = (Segment.from_path(path) for path in (root / "segments").glob("*/*.mp4"))
    return sorted(segment for segment in found if segment is not None)


def enforce(engine: Engine, root: Path, *, cap_bytes: int,
            now: datetime | None = None) -> RetentionReport:
    """One retention pass: age first, then the size cap."""
    now = now or datetime.now(UTC)
    report = RetentionReport(cap_bytes=cap_bytes)
    report.expired_events = expire_by_age(engine, root, now)
    report.usage_bytes = disk_usage(root)
    if cap_bytes and report.usage_bytes > cap_bytes:
        report.capped_events, report.capped_segments, report.usage_bytes = enforce_cap(
            engine, root, cap_bytes, report.usage_bytes)
    if report.expired_events or report.capped_events or report.capped_segments:
        log.info("retention: %d expired events, %d events and %d segments over the %.1f GB "
                 "cap; %.1f MB in use", report.expired_events, report.capped_events,
                 report.capped_segments, cap_bytes / 1e9, report.usage_bytes / 1e6)
    return report
