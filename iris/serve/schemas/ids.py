"""Database ids as the API accepts them: in a body, a path or a query.

Every table's id is a 64-bit INTEGER: a bigger number reaches the driver as an overflow (a 500),
so each id the API takes is bounded here and a wrong one is a 422 before any query runs.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Path, Query
from pydantic import Field

DB_ID_MAX = 2**63 - 1
"""Largest id a 64-bit INTEGER column holds: bigger ones are a 422, never a DB overflow."""

DbId = Annotated[int, Field(ge=1, le=DB_ID_MAX)]
"""An id in a request body."""
IdPath = Annotated[int, Path(ge=1, le=DB_ID_MAX)]
"""An id in the URL path (`/api/cameras/{camera_id}`)."""
IdFilter = Annotated[int | None, Query(ge=1, le=DB_ID_MAX)]
"""An optional id filter in the query string (`?camera_id=`)."""
Offset = Annotated[int, Query(ge=0, le=DB_ID_MAX)]
"""A page offset: rows to skip (SQL OFFSET is a 64-bit integer too)."""
Limit = Annotated[int, Query(ge=1, le=500)]
"""A page size: rows to return, at most 500 a page."""
