"""Body shapes every resource shares: strict requests, bulk delete, clear-all, delete results."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from iris.serve.schemas.ids import DbId

BULK_MAX = 1000
"""Most ids one bulk request may name."""


class Strict(BaseModel):
    """A request body that refuses unknown fields (a typo is a 422, not a silent no-op)."""

    model_config = ConfigDict(extra="forbid")


class BulkDelete(Strict):
    """POST …/bulk-delete: the ids to delete (at most 1000)."""

    ids: list[DbId] = Field(max_length=BULK_MAX)


class ClearAll(Strict):
    """POST …/clear-all: `confirm` must be true; resources add filters that narrow it."""

    confirm: bool = False


class DeleteResult(BaseModel):
    """How many rows a bulk delete or clear-all removed."""

    deleted: int
