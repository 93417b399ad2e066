"""Guards every router shares: a row or its 404, a stored image or 404, a confirmed clear-all.

A missing row answers the contract's `<Noun> not found.`; a clear-all without `confirm: true`
answers 400 and deletes nothing.
"""

from __future__ import annotations

from pathlib import Path
from typing import TypeVar

from fastapi import HTTPException, Request, Response, status
from sqlalchemy.engine import Engine
from sqlmodel import Session, SQLModel

from iris.db.tables import Camera, Event, FaceEmbedding, FaceSample, Identity, Person, Sighting
from iris.serve.files import serve_stored
from iris.serve.schemas.common import ClearAll

Row = TypeVar("Row", bound=SQLModel)

#: How a missing row of each table is named in its 404 (`Camera not found.`).
NOUNS: dict[type[SQLModel], str] = {
    Camera: "Camera",
    Event: "Event",
    Identity: "Identity",
    Sighting: "Sighting",
    Person: "Person",
    FaceEmbedding: "Face",
    FaceSample: "Face sample",
}


def get_or_404(session: Session, table: type[Row], row_id: int) -> Row:
    """The row of `table` with this id, or 404 `<Noun> not found.`."""
    row = session.get(table, row_id)
    if row is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"{NOUNS[table]} not found.")
    return row


def exists_or_404(engine: Engine, table: type[SQLModel], row_id: int) -> None:
    """404 unless the row exists, read in a short session of its own: for answers that stream
    after it (a stream lives for minutes and must not pin a pooled connection)."""
    with Session(engine) as session:
        get_or_404(session, table, row_id)


def stored_jpeg(request: Request, root: Path, stored: str | None, *, subject: str,
                missing: str) -> Response:
    """The JPEG a row stores (Range-aware), 404 `missing` when it stores none.

    `subject` names it in the errors of `serve_stored` ("The sample's crop").
    """
    if not stored:
        raise HTTPException(status.HTTP_404_NOT_FOUND, missing)
    return serve_stored(request.headers, root, stored, subject, "image/jpeg")


def require_confirmed(body: ClearAll, what: str) -> None:
    """400 unless a clear-all of `what` ("events", "people", …) says `confirm: true`."""
    if not body.confirm:
        raise HTTPException(status.HTTP_400_BAD_REQUEST,
                            f'Refusing to delete all {what}: send {{"confirm": true}} to confirm.')
