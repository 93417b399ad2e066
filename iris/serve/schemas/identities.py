"""Identity bodies: list items, detail, sightings, faces, analytics and operator corrections.

Stored crop paths never leave the server: items carry URLs, and only when the file is on disk.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Annotated

from pydantic import BaseModel, Field, StringConstraints

from iris.db.identities import IdentityCard, SightingRow
from iris.db.tables import FaceSample
from iris.serve.schemas.common import BULK_MAX, ClearAll, Strict
from iris.serve.schemas.ids import DbId

if TYPE_CHECKING:
    from iris.identity import OpResult

SPLIT_MAX = 10_000
Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]


def sighting_thumb_url(sighting_id: int) -> str:
    return f"/api/identities/sightings/{sighting_id}/thumbnail"


class CameraRef(BaseModel):
    """A camera an identity was seen on."""

    id: int
    name: str


class IdentityPublic(BaseModel):
    """One identity as listed: URLs are null when no crop file exists."""

    id: int
    name: str | None
    is_named: bool
    object_class: str
    color: str | None
    color_hex: str | None
    make: str | None
    vehicle_type: str | None
    total_seconds: float
    num_sightings: int
    first_seen: datetime | None
    last_seen: datetime | None
    cameras: list[CameraRef]
    rep_thumb_url: str | None = Field(description="Body-crop JPEG; null: none on disk")
    face_thumb_url: str | None = Field(description="Best face-crop JPEG; null: none on disk")

    @classmethod
    def fields_of(cls, card: IdentityCard) -> dict[str, object]:
        """The public fields of a card (shared with the detail view)."""
        i = card.identity
        return {
            **i.model_dump(
                include={"id", "name", "is_named", "object_class", "color", "color_hex", "make",
                         "vehicle_type", "total_seconds", "num_sightings", "first_seen",
                         "last_seen"}
            ),
            "cameras": [CameraRef(id=c, name=n) for c, n in card.cameras],
            "rep_thumb_url": f"/api/identities/{i.id}/thumbnail" if card.has_thumb else None,
            "face_thumb_url": (
                f"/api/face-groups/samples/{card.face_sample_id}/thumbnail"
                if card.face_sample_id is not None else None
            ),
        }

    @classmethod
    def from_card(cls, card: IdentityCard) -> IdentityPublic:
        return cls.model_validate(cls.fields_of(card))


class IdentityListResponse(BaseModel):
    """GET /api/identities: `total` matches the filters; `items` is one page."""

    total: int
    items: list[IdentityPublic]


class SightingPublic(BaseModel):
    """One sighting: an identity on one camera for one track."""

    id: int
    identity_id: int
    camera_id: int
    camera_name: str | None
    label: str
    ts: datetime
    end_ts: datetime | None
    match_kind: str
    score: float | None
    event_id: int | None
    thumb_url: str | None = Field(description="Body-crop JPEG; null: none on disk")

    @classmethod
    def from_row(cls, row: SightingRow) -> SightingPublic:
        s = row.sighting
        assert s.id is not None
        return cls.model_validate(
            {
                **s.model_dump(include={"id", "identity_id", "camera_id", "label", "ts",
                                        "end_ts", "match_kind", "score", "event_id"}),
                "camera_name": row.camera_name,
                "thumb_url": sighting_thumb_url(s.id) if row.has_thumb else None,
            }
        )


class SightingListResponse(BaseModel):
    """GET /api/identities/{id}/sightings, newest first."""

    total: int
    items: list[SightingPublic]


class IdentityDetail(IdentityPublic):
    """GET /api/identities/{id}: the list fields plus notes, counts and recent sightings."""

    notes: str | None
    person_id: int | None
    rep_sighting_id: int | None
    created_at: datetime
    num_face_exemplars: int
    num_appearance_exemplars: int
    recent: list[SightingPublic]


class FaceSamplePublic(BaseModel):
    """A captured face crop of an identity (served by the face-groups router)."""

    id: int
    ts: datetime
    camera_id: int
    sighting_id: int | None
    quality: float
    label: str | None
    thumb_url: str | None = Field(description="Face-crop JPEG; null: no crop on disk")

    @classmethod
    def from_sample(cls, sample: FaceSample, has_crop: bool) -> FaceSamplePublic:
        return cls.model_validate(
            {
                **sample.model_dump(include={"id", "ts", "camera_id", "sighting_id", "quality",
                                             "label"}),
                "thumb_url": (
                    f"/api/face-groups/samples/{sample.id}/thumbnail" if has_crop else None
                ),
            }
        )


class FaceSampleListResponse(BaseModel):
    """GET /api/identities/{id}/faces, newest first."""

    total: int
    items: list[FaceSamplePublic]


# ----------------------------------------------------------------------------- analytics
class AnalyticsSummary(BaseModel):
    """Identity totals of one class; "today" is the UTC day of `as_of`."""

    total: int
    named: int
    unnamed: int
    created_today: int
    seen_today: int
    seen_7d: int
    total_sightings: int


class CameraAnalytics(BaseModel):
    """Per camera: sightings, distinct identities, mean presence-segment length."""

    camera_id: int
    name: str | None
    sightings: int
    distinct_people: int
    avg_dwell_s: float


class HourBucket(BaseModel):
    """Sightings that started in the hour beginning at `hour` (UTC)."""

    hour: datetime
    sightings: int


class IdentityAnalytics(BaseModel):
    """GET /api/identities/analytics."""

    object_class: str
    as_of: datetime
    summary: AnalyticsSummary
    by_camera: list[CameraAnalytics]
    by_hour: list[HourBucket] = Field(description="24 hours, oldest first, ending with now's")
    by_match_kind: dict[str, int]


# ----------------------------------------------------------------------------- corrections
class IdentityUpdate(Strict):
    """PUT /api/identities/{id}: fields left out stay as they are.

    A name must hold a non-blank character (blank → 422; send null to clear it). A non-null
    name marks the identity named unless `is_named` is given too, which always wins; clearing
    the name un-names it unless `is_named` says otherwise.
    """

    name: Name | None = None
    notes: str | None = Field(None, max_length=5000)
    is_named: bool | None = None


class MergeRequest(Strict):
    """POST /api/identities/merge: fold `source_ids` into `target_id`."""

    target_id: DbId
    source_ids: list[DbId] = Field(min_length=1, max_length=BULK_MAX)


class SplitRequest(Strict):
    """POST /api/identities/{id}/split: explicit `sighting_ids`, or `auto` re-clustering."""

    sighting_ids: list[DbId] | None = Field(None, max_length=SPLIT_MAX)
    auto: bool = False
    new_name: Name | None = None


class IdentityClearAll(ClearAll):
    """POST /api/identities/clear-all: `confirm` must be true; `object_class` narrows it."""

    object_class: str | None = Field(None, max_length=50)


class IdentityOpResult(BaseModel):
    """Outcome of merge / split (see `iris.identity.OpResult`)."""

    ok: bool
    target_id: int | None
    affected_ids: list[int]
    moved_sightings: int
    detail: str

    @classmethod
    def from_op(cls, op: OpResult) -> IdentityOpResult:
        return cls(ok=op.ok, target_id=op.target_id, affected_ids=list(op.affected_ids),
                   moved_sightings=op.moved_sightings, detail=op.detail)
