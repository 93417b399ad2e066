"""Column types: UTC datetimes that survive SQLite, and float32 vector blobs (never pickle)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import numpy as np
from sqlalchemy.types import DateTime, TypeDecorator


class UTCDateTime(TypeDecorator[datetime]):
    """Stores naive UTC, returns aware UTC, on every backend."""

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is not None:
            value = value.astimezone(UTC)
        return value.replace(tzinfo=None)

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        return None if value is None else value.replace(tzinfo=UTC)


def utcnow() -> datetime:
    """Now, as an aware UTC datetime."""
    return datetime.now(UTC)


def vector_to_blob(vector: np.ndarray) -> bytes:
    """Little-endian float32 bytes of a 1-D vector."""
    return np.ascontiguousarray(vector, dtype="<f4").ravel().tobytes()


def blob_to_vector(blob: bytes) -> np.ndarray:
    """Inverse of `vector_to_blob` (a read-only view; copy before mutating)."""
    return np.frombuffer(blob, dtype="<f4")
