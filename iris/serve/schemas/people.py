"""People bodies: create/update, the public view with its face count, enrolled faces.

Bulk delete, clear-all and their result are the shared shapes of `schemas.common`.
"""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field

from iris.db.tables import FaceEmbedding
from iris.serve.schemas.common import Strict


class PersonCreate(Strict):
    """POST /api/people: a face-less person (faces are enrolled afterwards)."""

    name: str = Field(min_length=1, max_length=200)
    notes: str | None = Field(None, max_length=5000)


class PersonUpdate(Strict):
    """PUT /api/people/{id}: only the fields sent change; `notes: null` clears the notes."""

    name: str | None = Field(None, min_length=1, max_length=200)
    notes: str | None = Field(None, max_length=5000)


class PersonPublic(BaseModel):
    """One person as the API returns them."""

    id: int
    name: str
    notes: str | None
    num_faces: int = Field(description="Enrolled face embeddings")
    created_at: datetime
    updated_at: datetime


class FacePublic(BaseModel):
    """One enrolled face embedding (its vector stays server-side)."""

    id: int
    person_id: int
    source: str = Field(description="upload (a photo) or face-group (copied from captures)")
    image_path: str | None = Field(description="Stored photo, relative to the data root")
    image_url: str | None = Field(description="GET it for the photo; null: none")
    created_at: datetime

    @classmethod
    def from_row(cls, face: FaceEmbedding) -> FacePublic:
        """The public view of a row (a URL only when the row has a photo)."""
        url = f"/api/people/{face.person_id}/faces/{face.id}/image" if face.image_path else None
        return cls.model_validate({**face.model_dump(exclude={"vector"}), "image_url": url})


class EnrollResult(BaseModel):
    """POST /api/people/{id}/faces: the new embedding and how many faces the photo held."""

    embedding_id: int
    faces_detected: int
    image_path: str = Field(description="Stored photo, relative to the data root")
