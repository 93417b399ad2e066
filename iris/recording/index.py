"""The recording index: DB rows of finished segments and of gaps (no Ray).

Keyword-only functions over a session, like the rest of the data layer: the camera's recorder
writes here, routes and retention read here, and nothing else touches these tables.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy import ColumnElement, Row, Select, delete, func, select
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col

from iris.db.scope import camera_scope, visible
from iris.db.tables import RecordingGap, RecordingSegment
from iris.layout import Layout
from iris.recording.segment import Segment

#: Consecutive segments closer than this count as one continuous span (wall-clock estimates
#: of two cuts differ by a few ms; a real outage is seconds).
CONTIGUOUS_S = 1.0
#: No segment is longer than this (cuts come every segment_seconds at the next keyframe):
#: it bounds range queries on (camera_id, start) from below, so they never scan the history.
LONGEST_SEGMENT_S = 600.0


def _overlapping(camera_id: int, start: float, end: float) -> list[ColumnElement[bool]]:
    return [col(RecordingSegment.camera_id) == camera_id,
            col(RecordingSegment.start) < end,
            col(RecordingSegment.start) > start - LONGEST_SEGMENT_S,
            col(RecordingSegment.end) > start]


def raw_rows(session: Session, camera_id: int,
             query: Select[*tuple[Any, ...]]) -> list[tuple[Any, ...]]:
    """The rows of a Core query over one camera's rows (numeric parameters) as plain DBAPI
    tuples: a day of one camera's segments is ~15k rows, which SQLAlchemy's row objects make
    5x slower to read. The DBAPI cursor passes by the ORM's camera-scope hook, so the scope
    is applied here: a camera outside the session's scope has no rows (`iris.db.scope`)."""
    bind = session.get_bind()
    if isinstance(bind, Engine) and not visible(camera_scope(bind), camera_id):
        return []
    connection = session.connection()
    compiled = query.compile(dialect=connection.dialect)
    params = compiled.construct_params()
    args: Any = (tuple(params[name] for name in compiled.positiontup or ())
                 if compiled.positional else params)
    cursor = connection.connection.dbapi_connection.cursor()  # type: ignore[union-attr]
    try:
        cursor.execute(compiled.string, args)
        return [tuple(row) for row in cursor.fetchall()]
    finally:
        cursor.close()


def add_segment(session: Session, *, layout: Layout, camera_id: int, segment: Segment) -> bool:
    """Index one finished segment file; False when it was indexed already (or its camera is
    gone). Commits."""
    row = RecordingSegment(
        camera_id=camera_id, start=segment.start, end=segment.end,
        path=layout.relative(segment.path), bytes=segment.bytes, has_audio=segment.has_audio,
        keyframes=segment.keyframes, activity=segment.activity)
    session.add(row)
    try:
        session.commit()
    except IntegrityError:  # indexed by start-up reconciliation, or the camera was deleted
        session.rollback()
        return False
    return True


def add_gap(session: Session, *, camera_id: int, start: float, end: float, reason: str) -> None:
    """Record that `camera_id` recorded nothing in [start, end] and why. Commits."""
    session.add(RecordingGap(camera_id=camera_id, start=start, end=end, reason=reason[:500]))
    try:
        session.commit()
    except IntegrityError:  # the camera was deleted meanwhile
        session.rollback()


def last_end(session: Session, *, camera_id: int) -> float | None:
    """Where the camera's indexed footage ends (epoch seconds), None before any."""
    value = session.execute(select(func.max(col(RecordingSegment.end)))
                            .where(col(RecordingSegment.camera_id) == camera_id)).scalar()
    return None if value is None else float(value)


def to_segment(layout: Layout, row: RecordingSegment | Row) -> Segment:  # type: ignore[type-arg]
    """The value type of an index row, with its absolute path."""
    return Segment(float(row.start), float(row.end), layout.root / row.path, bytes=row.bytes,
                   has_audio=bool(row.has_audio), keyframes=row.keyframes,
                   activity=row.activity, id=row.id)


def segments_between(session: Session, *, layout: Layout, camera_id: int, start: float,
                     end: float) -> list[Segment]:
    """The camera's segments overlapping [start, end), oldest first."""
    rows = raw_rows(session, camera_id, select(
        col(RecordingSegment.id), col(RecordingSegment.start), col(RecordingSegment.end),
        col(RecordingSegment.path), col(RecordingSegment.bytes),
        col(RecordingSegment.has_audio), col(RecordingSegment.keyframes),
        col(RecordingSegment.activity))
        .where(*_overlapping(camera_id, start, end)).order_by(col(RecordingSegment.start)))
    return [Segment(float(s), float(e), layout.root / path, bytes=size, has_audio=bool(audio),
                    keyframes=keys, activity=activity, id=row_id)
            for row_id, s, e, path, size, audio, keys, activity in rows]


def spans_between(session: Session, *, camera_id: int, start: float,
                  end: float) -> list[tuple[float, float]]:
    """(start, end) of the camera's segments overlapping [start, end), oldest first."""
    rows = raw_rows(session, camera_id,
                    select(col(RecordingSegment.start), col(RecordingSegment.end))
                    .where(*_overlapping(camera_id, start, end))
                    .order_by(col(RecordingSegment.start)))
    return [(float(row[0]), float(row[1])) for row in rows]


def segment_by_id(session: Session, *, layout: Layout, camera_id: int,
                  segment_id: int) -> Segment | None:
    """One of the camera's segments by its row id (None if it is not this camera's)."""
    row = session.get(RecordingSegment, segment_id)
    if row is None or row.camera_id != camera_id:
        return None
    return to_segment(layout, row)


def indexed_paths(session: Session, *, camera_id: int) -> dict[str, int]:
    """Relative path → row id of every segment the index holds for the camera."""
    rows = session.execute(select(col(RecordingSegment.path), col(RecordingSegment.id))
                           .where(col(RecordingSegment.camera_id) == camera_id)).all()
    return {path: row_id for path, row_id in rows}


def forget_segments(session: Session, *, ids: Iterable[int]) -> int:
    """Delete index rows (not files) by id; returns how many. The caller commits."""
    chosen = list(ids)
    removed = 0
    for first in range(0, len(chosen), 500):
        part = chosen[first:first + 500]
        removed += len(part)
        session.execute(delete(RecordingSegment).where(col(RecordingSegment.id).in_(part)))
    return removed


def merge_spans(spans: Iterable[tuple[float, float]],
                tolerance: float = CONTIGUOUS_S) -> list[tuple[float, float]]:
    """Sorted, overlapping or near-touching (start, end) pairs merged into continuous spans."""
    merged: list[tuple[float, float]] = []
    for start, end in sorted(spans):
        if merged and start - merged[-1][1] <= tolerance:
            merged[-1] = (merged[-1][0], max(merged[-1][1], end))
        else:
            merged.append((start, end))
    return merged
