"""The data layer for people (the manual face DB): people, their enrolled faces and photos.

Plain functions with keyword-only arguments over a `Session` (no Ray). Photos live under
``<root>/faces/<person id>/``; rows store paths relative to the root. Deletes detach events and
identities explicitly (their `person_name` snapshot stays), so the contract does not depend on a
backend enforcing foreign keys.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any
from uuid import uuid4

import numpy as np
from sqlalchemy import delete, func, select, update
from sqlmodel import Session, col

from iris.db.chunks import chunks
from iris.db.tables import Event, FaceEmbedding, Identity, Person
from iris.db.types import utcnow, vector_to_blob
from iris.layout import Layout
from iris.media import contained, remove_file, remove_tree


def faces_dir(root: Path, person_id: int) -> Path:
    """``<root>/faces/<id>``: the person's enrollment photos."""
    return Layout(root).faces(person_id)


def new_photo_path(person_id: int) -> str:
    """A fresh relative path for one of the person's photos."""
    return f"faces/{person_id}/{uuid4().hex}.jpg"


def face_counts(session: Session, *, person_ids: list[int] | None = None) -> dict[int, int]:
    """Person id → enrolled faces (people without faces are left out)."""
    query = select(col(FaceEmbedding.person_id), func.count()).group_by(
        col(FaceEmbedding.person_id))
    if person_ids is not None:
        query = query.where(col(FaceEmbedding.person_id).in_(person_ids))
    return {pid: n for pid, n in session.execute(query).tuples()}


def list_people(session: Session) -> list[Person]:
    """Every person by name (case-insensitive), then id."""
    return list(session.execute(
        select(Person).order_by(func.lower(col(Person.name)), col(Person.id))
    ).scalars())


def create_person(session: Session, *, name: str, notes: str | None = None) -> Person:
    """Insert and commit a face-less person."""
    person = Person(name=name, notes=notes)
    session.add(person)
    session.commit()
    return person


def update_person(session: Session, *, person: Person, changes: Mapping[str, Any]) -> Person:
    """Set the given fields and commit."""
    for key, value in changes.items():
        setattr(person, key, value)
    person.updated_at = utcnow()
    session.add(person)
    session.commit()
    return person


def delete_people(session: Session, *, root: Path, person_ids: Iterable[int]) -> int:
    """Delete people with their faces and photos (not committed); returns how many existed.

    Their events and identities keep living without the link (`Event.person_name` stays).
    """
    deleted = 0
    for wanted in chunks(person_ids):
        chunk = list(session.execute(
            select(col(Person.id)).where(col(Person.id).in_(wanted))).scalars())
        for path in session.execute(
            select(col(FaceEmbedding.image_path)).where(col(FaceEmbedding.person_id).in_(chunk))
        ).scalars():
            remove_file(root, path)
        for person_id in chunk:
            remove_tree(faces_dir(root, person_id))
        session.execute(update(Event).where(col(Event.person_id).in_(chunk))
                        .values(person_id=None))
        session.execute(update(Identity).where(col(Identity.person_id).in_(chunk))
                        .values(person_id=None))
        session.execute(delete(FaceEmbedding).where(col(FaceEmbedding.person_id).in_(chunk)))
        session.execute(delete(Person).where(col(Person.id).in_(chunk)))
        deleted += len(chunk)
    return deleted


def clear_people(session: Session, *, root: Path) -> int:
    """Delete every person, committing one chunk at a time (as the events clear-all does)."""
    deleted = 0
    for chunk in chunks(session.execute(select(col(Person.id))).scalars()):
        deleted += delete_people(session, root=root, person_ids=chunk)
        session.commit()
    return deleted


def person_faces(session: Session, *, person_id: int) -> list[FaceEmbedding]:
    """The person's enrolled faces, oldest first."""
    return list(session.execute(
        select(FaceEmbedding).where(col(FaceEmbedding.person_id) == person_id)
        .order_by(col(FaceEmbedding.id))
    ).scalars())


def add_face(session: Session, *, root: Path, person_id: int, jpeg: bytes,
             embedding: np.ndarray, source: str = "upload") -> FaceEmbedding:
    """Write the photo, then commit its embedding row; the photo goes again if the row fails."""
    relative = new_photo_path(person_id)
    path = contained(root, relative)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(jpeg)
    row = FaceEmbedding(person_id=person_id, vector=vector_to_blob(embedding),
                        image_path=relative, source=source)
    try:
        session.add(row)
        session.commit()
    except BaseException:
        path.unlink(missing_ok=True)
        raise
    return row


def delete_face(session: Session, *, root: Path, face: FaceEmbedding) -> None:
    """Remove one enrolled face and its photo, and commit."""
    remove_file(root, face.image_path)
    session.delete(face)
    session.commit()
