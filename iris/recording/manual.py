"""Manual recordings over the recording store (no Ray): a row opened at start keeps its
footage from then on, however long it runs; the camera's stop saves it (`CameraWorker`)."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col

from iris.db.tables import Event

#: A manual recording's pre- and post-roll.
MANUAL_ROLL_S = 1.0


def open_manual(session: Session, *, camera_id: int, started_at: datetime) -> int:
    """The in-progress manual event started at `started_at` (made once per camera and start,
    by the unique index); retention keeps its footage from `started_at - 1 s` until it is
    saved. Returns its id. Commits."""
    event = Event(camera_id=camera_id, kind="manual", label="manual", ts=started_at,
                  in_progress=True, manual_started_at=started_at,
                  clip_start=started_at.astimezone(UTC).timestamp() - MANUAL_ROLL_S)
    session.add(event)
    try:
        session.commit()
    except IntegrityError:
        session.rollback()
        found = session.execute(select(col(Event.id)).where(
            col(Event.camera_id) == camera_id,
            col(Event.manual_started_at) == started_at)).scalar_one_or_none()
        if found is None:
            raise
        return int(found)
    assert event.id is not None
    return event.id
