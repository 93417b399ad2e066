"""A camera's event rows: opened while a presence lasts, finished with its range and thumbnail.

An event's footage is the range [clip_start, clip_end] of the recording store (clip_end is
NULL while it lasts); its clip is cut from the store when someone asks for it.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, cast

from sqlalchemy import select, update
from sqlalchemy.engine import CursorResult, Engine
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col

from iris.db.events import zones_text
from iris.db.tables import Event, Person
from iris.media import remove_file

log = logging.getLogger("iris.events")


def _dt(epoch: float) -> datetime:
    return datetime.fromtimestamp(epoch, UTC)


@dataclass(frozen=True)
class ManualClaim:
    """The event row of one manual recording; `created` is False when an earlier stop made it."""

    event: Event
    created: bool


class EventStore:
    """DB writes of one camera's worker (its own engine; SQLite WAL or PostgreSQL)."""

    def __init__(self, engine: Engine, camera_id: int, root: Path) -> None:
        self.engine = engine
        self.camera_id = camera_id
        self.root = root

    def open(self, *, kind: str, label: str, score: float | None, ts: float,
             clip_start: float | None = None, severity: str = "alert",
             zones: Sequence[str] = ()) -> int:
        """An in-progress event row, not reviewed: visible at once, its footage from
        `clip_start` on kept by retention until it is finished."""
        with Session(self.engine) as session:
            event = Event(camera_id=self.camera_id, kind=kind, label=label, score=score,
                          ts=_dt(ts), in_progress=True, clip_start=clip_start,
                          severity=severity, zones=zones_text(zones))
            session.add(event)
            session.commit()
            assert event.id is not None
            return event.id

    def finish(self, event_id: int, *, ts: float, end_ts: float, duration: float,
               clip_path: str | None, thumb_path: str | None, label: str | None = None,
               score: float | None = None, clip_start: float | None = None,
               clip_end: float | None = None, keep_range: bool = False,
               severity: str | None = None, zones: Sequence[str] | None = None) -> bool:
        """Close the event with its footage range (or a clip file of its own) and thumbnail;
        False when the row was deleted meanwhile. `keep_range` leaves the stored range as it
        is; otherwise clip_start/clip_end replace it (None: no footage). `severity` and
        `zones`, when given, replace what the open stored."""
        values: dict[str, object] = {
            "ts": _dt(ts), "end_ts": _dt(end_ts), "duration": duration,
            "clip_path": clip_path, "thumb_path": thumb_path, "in_progress": False}
        if not keep_range:
            values |= {"clip_start": clip_start, "clip_end": clip_end}
        if label is not None:
            values["label"] = label
        if severity is not None:
            values["severity"] = severity
        if zones is not None:
            values["zones"] = zones_text(zones)
        with Session(self.engine) as session:
            if score is not None:
                current = session.execute(
                    select(col(Event.score)).where(col(Event.id) == event_id)).scalar()
                values["score"] = max(score, current or 0.0)
            # One UPDATE: a delete that lands between a read and a write cannot be missed.
            result = session.execute(
                update(Event).where(col(Event.id) == event_id).values(**values))
            updated = cast(CursorResult[Any], result).rowcount
            session.commit()
        if not updated:
            # Deleted while it was recorded (an operator, a camera or identity delete): the
            # files were cut for nobody, and no row will ever point at them.
            remove_file(self.root, clip_path)
            remove_file(self.root, thumb_path)
            log.info("camera %s: event %s was deleted while recording; its clip is dropped",
                     self.camera_id, event_id)
        return bool(updated)

    def set_zones(self, event_id: int, *, zones: Sequence[str], severity: str) -> None:
        """The zones an event in progress reached so far, and its severity now."""
        with Session(self.engine) as session:
            session.execute(update(Event).where(col(Event.id) == event_id)
                            .values(zones=zones_text(zones), severity=severity))
            session.commit()

    def claim_manual(self, started_at: float, clip_start: float | None = None) -> ManualClaim:
        """The manual recording started at `started_at`: a new in-progress row (its footage
        from `clip_start` on kept while it records), or the one made before, by its start or
        an earlier stop (one per camera and started_at, enforced by a unique index, so a
        retried or concurrent stop in any process finds the first).
        """
        key = _dt(started_at)
        with Session(self.engine, expire_on_commit=False) as session:
            event = Event(camera_id=self.camera_id, kind="manual", label="manual", ts=key,
                          in_progress=True, manual_started_at=key, clip_start=clip_start,
                          severity="alert")
            session.add(event)
            try:
                session.commit()
                return ManualClaim(event, created=True)
            except IntegrityError:
                session.rollback()
            existing = session.execute(select(Event).where(
                col(Event.camera_id) == self.camera_id,
                col(Event.manual_started_at) == key)).scalar_one_or_none()
        if existing is None:  # not a duplicate: the camera row itself is gone
            raise LookupError(f"camera {self.camera_id} no longer exists")
        return ManualClaim(existing, created=False)

    def link(self, event_id: int, *, identity_id: int, person_id: int | None) -> None:
        """Name the event's subject: the first identity seen in it, and any enrolled person."""
        with Session(self.engine) as session:
            event = session.get(Event, event_id)
            if event is None:
                return
            if event.identity_id is None:
                event.identity_id = identity_id
            if person_id is not None and event.person_id is None:
                person = session.get(Person, person_id)
                event.person_id = person_id
                event.person_name = person.name if person is not None else None
            session.add(event)
            session.commit()

    def discard(self, event_id: int) -> None:
        with Session(self.engine) as session:
            event = session.get(Event, event_id)
            if event is not None:
                session.delete(event)
                session.commit()

    def in_progress(self) -> list[Event]:
        """Events left open by an unclean stop (crash, kill -9)."""
        with Session(self.engine) as session:
            return list(session.execute(
                select(Event).where(col(Event.camera_id) == self.camera_id, col(Event.in_progress))
            ).scalars())

    def claim_saving(self, event_id: int, *, clip_end: float) -> bool:
        """Take the save of a manual recording that is still recording: set its end. False
        when another stop took it first (its end is set already)."""
        with Session(self.engine) as session:
            result = session.execute(
                update(Event).where(col(Event.id) == event_id, col(Event.in_progress),
                                    col(Event.clip_end).is_(None)).values(clip_end=clip_end))
            taken = cast(CursorResult[Any], result).rowcount
            session.commit()
        return bool(taken)

    def mark_finished(self, event_id: int) -> None:
        with Session(self.engine) as session:
            session.execute(
                update(Event).where(col(Event.id) == event_id).values(in_progress=False))
            session.commit()
