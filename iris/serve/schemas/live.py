"""Manual recording bodies."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel


class RecordStarted(BaseModel):
    camera_id: int
    started_at: datetime


class RecordStop(BaseModel):
    started_at: str


class RecordStopped(BaseModel):
    event_id: int
    clip: str
    duration: float
