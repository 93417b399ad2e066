"""Event queries: the list filters, review marks and unreviewed counts (no Ray, no FastAPI).

An event's zones are stored as one delimited string (``",drive,porch,"``) so that "events in
zone X" is one ``LIKE`` on either database; `zones_text` and `zone_names` convert.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from typing import Any, Literal, cast

from sqlalchemy import ColumnElement, func, or_, select, update
from sqlalchemy.engine import CursorResult
from sqlmodel import Session, col

from iris.db.tables import Event

Severity = Literal["alert", "detection"]


def zones_text(names: Iterable[str]) -> str | None:
    """Zone names as the events table stores them; None for none."""
    names = list(dict.fromkeys(names))
    return f",{','.join(names)}," if names else None


def zone_names(stored: str | None) -> list[str]:
    """The zone names of a stored zones string."""
    return [name for name in (stored or "").split(",") if name]


def _utc(value: datetime | None) -> datetime | None:
    # A naive bound means UTC, as stored.
    if value is None or value.tzinfo is not None:
        return value
    return value.replace(tzinfo=UTC)


def event_filters(
    *,
    camera_id: int | None = None,
    person_id: int | None = None,
    label: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    zone: str | None = None,
    reviewed: bool | None = None,
    severity: Severity | None = None,
) -> list[ColumnElement[bool]]:
    """WHERE clauses for the list filters: `since` inclusive, `until` exclusive; `zone`: the
    event's objects entered that zone; a row without a severity (older) is an alert."""
    clauses: list[ColumnElement[bool]] = []
    if camera_id is not None:
        clauses.append(col(Event.camera_id) == camera_id)
    if person_id is not None:
        clauses.append(col(Event.person_id) == person_id)
    if label is not None:
        clauses.append(col(Event.label) == label)
    if since is not None:
        clauses.append(col(Event.ts) >= _utc(since))
    if until is not None:
        clauses.append(col(Event.ts) < _utc(until))
    if zone is not None:
        clauses.append(col(Event.zones).contains(f",{zone},", autoescape=True))
    if reviewed is not None:
        clauses.append(col(Event.reviewed) == reviewed)
    if severity == "alert":
        clauses.append(or_(col(Event.severity) == "alert", col(Event.severity).is_(None)))
    elif severity is not None:
        clauses.append(col(Event.severity) == severity)
    return clauses


def review_events(session: Session, *, ids: Sequence[int], reviewed: bool) -> int:
    """Mark the events `reviewed` (or not) and commit; returns how many of `ids` it marked.

    Only rows the session can see are marked (the SELECT runs through the camera scope; an
    UPDATE would not); rows already so marked count too: the answer is what is marked now.
    """
    if not ids:
        return 0
    visible = list(session.execute(
        select(col(Event.id)).where(col(Event.id).in_(list(dict.fromkeys(ids))))).scalars())
    if not visible:
        return 0
    result = session.execute(
        update(Event).where(col(Event.id).in_(visible)).values(reviewed=reviewed)
        .execution_options(synchronize_session=False))
    session.commit()
    return int(cast(CursorResult[Any], result).rowcount)


def unreviewed_counts(session: Session, *, where: Sequence[ColumnElement[bool]] = ()
                      ) -> dict[int, int]:
    """camera id → events not reviewed yet (only cameras with some), within `where`."""
    rows = session.execute(
        select(col(Event.camera_id), func.count())
        .where(col(Event.reviewed).is_(False), *where)
        .group_by(col(Event.camera_id))
        .order_by(col(Event.camera_id)))
    return {int(camera_id): int(count) for camera_id, count in rows}
