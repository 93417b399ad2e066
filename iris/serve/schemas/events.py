"""Event bodies: the public view with media URLs, the paginated list, bulk delete, clear-all."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Literal

from pydantic import BaseModel, Field

from iris.db.events import zone_names
from iris.db.tables import Event
from iris.serve.schemas import common
from iris.serve.schemas.common import BULK_MAX, Strict
from iris.serve.schemas.ids import DbId


def _dt(epoch: float | None) -> datetime | None:
    return None if epoch is None else datetime.fromtimestamp(epoch, UTC)


class EventPublic(BaseModel):
    """One event as the API returns it: stored paths become URLs the browser can fetch."""

    id: int
    camera_id: int
    kind: str
    label: str
    score: float | None
    ts: datetime
    end_ts: datetime | None
    duration: float | None
    in_progress: bool
    person_id: int | None
    person_name: str | None
    identity_id: int | None
    created_at: datetime
    clip_start: datetime | None = Field(
        None, description="Where its footage starts in the recording store (first seen - pre)")
    clip_end: datetime | None = Field(
        None, description="Where its footage ends (last seen + post); null while recording")
    clip_url: str | None = Field(description="GET it for the mp4 (Range supported); null: none")
    thumb_url: str | None = Field(description="GET it for the JPEG thumbnail; null: none")
    zones: list[str] = Field(
        default_factory=list, description="Zones the event's objects entered while it lasted")
    severity: Literal["alert", "detection"] = Field(
        "alert", description="alert: a trigger object entered a required zone (or none are "
                             "required); detection otherwise")
    reviewed: bool = False

    @classmethod
    def from_event(cls, event: Event) -> EventPublic:
        """The public view of a row (URLs only when the row has the file)."""
        base = f"/api/events/{event.id}"
        has_clip = bool(event.clip_path) or event.clip_start is not None
        return cls.model_validate(
            {
                **event.model_dump(exclude={"clip_path", "thumb_path", "clip_start",
                                            "clip_end", "zones", "severity"}),
                "zones": zone_names(event.zones),
                "severity": event.severity or "alert",  # older rows: before zones existed
                "clip_start": _dt(event.clip_start),
                "clip_end": _dt(event.clip_end),
                "clip_url": f"{base}/clip" if has_clip else None,
                "thumb_url": f"{base}/thumbnail" if event.thumb_path else None,
            }
        )


class EventListResponse(BaseModel):
    """GET /api/events: `total` matches the filters; `items` is one page, newest first."""

    total: int
    items: list[EventPublic]


class ClearAll(common.ClearAll):
    """POST /api/events/clear-all: `confirm` must be true; filters narrow what goes."""

    camera_id: DbId | None = None
    label: str | None = Field(None, max_length=50)


class ReviewBody(Strict):
    """POST /api/events/review: mark these events reviewed (or not)."""

    ids: list[DbId] = Field(min_length=1, max_length=BULK_MAX)
    reviewed: bool = True


class ReviewResult(BaseModel):
    """How many of the ids were marked (ids of missing events are not counted)."""

    updated: int


class UnreviewedCounts(BaseModel):
    """GET /api/events/unreviewed: events not reviewed yet, in all and per camera id."""

    total: int
    by_camera: dict[str, int] = Field(description="Camera id (as a string) → count; cameras "
                                                  "with none are left out")


class DeleteResult(BaseModel):
    """How many events a bulk delete or clear-all removed, and how many it left recording."""

    deleted: int
    kept: int = Field(0, description="Events still being recorded, left alone: they finish "
                                     "normally and can be deleted then")
