"""Manual recording bodies."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel

from iris.messages import RecordResult


class RecordStarted(BaseModel):
    camera_id: int
    started_at: datetime


class RecordStop(BaseModel):
    started_at: str


class RecordStopped(BaseModel):
    event_id: int
    clip: str
    duration: float

    @classmethod
    def from_result(cls, result: RecordResult) -> RecordStopped:
        """The answer for a saved recording (ValueError for one that was not saved)."""
        if result.event_id is None or result.clip is None:
            raise ValueError(f"recording not saved: {result.error}")
        return cls(event_id=result.event_id, clip=result.clip, duration=result.duration)
