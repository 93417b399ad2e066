"""Epoch seconds <-> the aware UTC datetimes the tables store."""

from __future__ import annotations

from datetime import UTC, datetime


def to_dt(ts: float) -> datetime:
    """Epoch seconds -> aware UTC datetime."""
    return datetime.fromtimestamp(ts, UTC)


def to_epoch(value: datetime) -> float:
    """Datetime (aware, or naive UTC) -> epoch seconds."""
    return (value if value.tzinfo else value.replace(tzinfo=UTC)).timestamp()
