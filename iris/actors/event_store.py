"""A camera's event rows: opened while a presence lasts, finished with clip and thumbnail."""

from __future__ import annotations

import logging
from datetime import UTC, datetime

from sqlalchemy import select, update
from sqlalchemy.engine import Engine
from sqlmodel import Session, col

from iris.db.tables import Event, Person

log = logging.getLogger("iris.events")


def _dt(epoch: float) -> datetime:
    return datetime.fromtimestamp(epoch, UTC)


class EventStore:
    """DB writes of one camera's worker (its own engine; SQLite WAL or PostgreSQL)."""

    def __init__(self, engine: Engine, camera_id: int) -> None:
        self.engine = engine
        self.camera_id = camera_id

    def open(self, *, kind: str, label: str, score: float | None, ts: float) -> int:
        """An in-progress event row: visible at once, finished when the clip is written."""
        with Session(self.engine) as session:
            event = Event(camera_id=self.camera_id, kind=kind, label=label, score=score,
                          ts=_dt(ts), in_progress=True)
            session.add(event)
            session.commit()
            assert event.id is not None
            return event.id

    def finish(self, event_id: int, *, ts: float, end_ts: float, duration: float,
               clip_path: str | None, thumb_path: str | None, label: str | None = None,
               score: float | None = None) -> None:
        with Session(self.engine) as session:
            event = session.get(Event, event_id)
            if event is None:  # deleted by an operator meanwhile: nothing to finish
                return
            event.ts, event.end_ts, event.duration = _dt(ts), _dt(end_ts), duration
            event.clip_path, event.thumb_path = clip_path, thumb_path
            event.in_progress = False
            if label is not None:
                event.label = label
            if score is not None:
                event.score = max(score, event.score or 0.0)
            session.add(event)
            session.commit()

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

    def mark_finished(self, event_id: int) -> None:
        with Session(self.engine) as session:
            session.execute(
                update(Event).where(col(Event.id) == event_id).values(in_progress=False))
            session.commit()
