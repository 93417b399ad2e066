"""Rows for tests: a camera, event, person, identity, sighting or face sample in one call.

Each takes the session and any column as a keyword, fills the rest with plain defaults, and
flushes so the row has its id (the caller commits, or uses `session_scope`).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import numpy as np
from sqlmodel import Session, SQLModel

from iris.db.tables import Camera, Event, FaceEmbedding, FaceSample, Identity, Person, Sighting
from iris.db.types import vector_to_blob

NOW = datetime(2026, 1, 2, 12, 0, tzinfo=UTC)


def _add(session: Session, row: SQLModel) -> Any:
    session.add(row)
    session.flush()
    return row


def unit_vector(seed: int, dim: int = 512) -> np.ndarray:
    """A deterministic L2-normalised float32 vector."""
    vector = np.random.default_rng(seed).standard_normal(dim).astype(np.float32)
    return vector / np.linalg.norm(vector)


def camera_row(session: Session, **fields: Any) -> Camera:
    """A camera (disabled unless told: no worker should start for it)."""
    values = {"name": "Door", "rtsp_url": "rtsp://u:p@192.0.2.10/s", "enabled": False, **fields}
    return _add(session, Camera(**values))  # type: ignore[no-any-return]


def event_row(session: Session, *, camera_id: int, **fields: Any) -> Event:
    """A finished event on the camera."""
    values = {"ts": NOW, "end_ts": NOW, "duration": 0.0, **fields}
    return _add(session, Event(camera_id=camera_id, **values))  # type: ignore[no-any-return]


def person_row(session: Session, *, faces: int = 0, **fields: Any) -> Person:
    """A person with `faces` enrolled embeddings (no photos)."""
    person: Person = _add(session, Person(**{"name": "Ada", **fields}))
    assert person.id is not None
    for index in range(faces):
        _add(session, FaceEmbedding(person_id=person.id,
                                    vector=vector_to_blob(unit_vector(index))))
    return person


def identity_row(session: Session, **fields: Any) -> Identity:
    """An identity (person class, unnamed unless told)."""
    return _add(session, Identity(**fields))  # type: ignore[no-any-return]


def sighting_row(session: Session, *, identity_id: int, camera_id: int,
                 **fields: Any) -> Sighting:
    """A sighting of the identity on the camera."""
    row = Sighting(identity_id=identity_id, camera_id=camera_id, **{"ts": NOW, **fields})
    return _add(session, row)  # type: ignore[no-any-return]


def face_sample_row(session: Session, *, camera_id: int, seed: int = 0,
                    **fields: Any) -> FaceSample:
    """A captured face with a 512-d embedding (from `seed`)."""
    values = {"ts": NOW, "embedding": vector_to_blob(unit_vector(seed)), "quality": 0.5,
              **fields}
    return _add(session, FaceSample(camera_id=camera_id, **values))  # type: ignore[no-any-return]
