"""Face-group bodies: the clustering answer, and enroll / label / clips / delete requests."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, Field

from iris.identity import MAX_SAMPLES, ClusterParams, FaceGroup
from iris.serve.schemas.common import ClearAll, Strict
from iris.serve.schemas.ids import DbId

ENROLL_MAX_FACES = 12


def thumb_url(sample_id: int) -> str:
    """Where the browser fetches a sample's face crop."""
    return f"/api/face-groups/samples/{sample_id}/thumbnail"


class ClusterSettings(BaseModel):
    """The settings a clustering ran with (echoed so the UI shows what it sees)."""

    face_threshold: float
    clothing_weight: float
    min_size: int
    max_members: int
    max_samples: int


class GroupMember(BaseModel):
    """One member's sample id and crop."""

    id: int
    thumb_url: str


class FaceGroupPublic(BaseModel):
    """One group: `group_id` is its representative (best-quality) sample's id."""

    group_id: int
    size: int
    label: str | None
    cameras: list[int]
    first_seen: datetime
    last_seen: datetime
    rep_thumb_url: str
    members: list[GroupMember] = Field(description="Best first, at most max_members")

    @classmethod
    def from_group(cls, group: FaceGroup, max_members: int) -> FaceGroupPublic:
        """The public view of a cluster, members cut to `max_members`."""
        return cls(
            group_id=group.group_id, size=group.size, label=group.label,
            cameras=list(group.cameras), first_seen=group.first_seen,
            last_seen=group.last_seen, rep_thumb_url=thumb_url(group.group_id),
            members=[GroupMember(id=i, thumb_url=thumb_url(i))
                     for i in group.member_ids[:max_members]],
        )


class FaceGroupList(BaseModel):
    """GET /api/face-groups: groups largest first."""

    total_samples: int = Field(description="Samples clustered (the newest max_samples)")
    total_groups: int = Field(description="Groups returned (min_size applied)")
    settings: ClusterSettings
    groups: list[FaceGroupPublic]

    @classmethod
    def build(cls, params: ClusterParams, total: int, groups: list[FaceGroup]) -> FaceGroupList:
        """The answer for one clustering run."""
        return cls(
            total_samples=total, total_groups=len(groups),
            settings=ClusterSettings(**vars(params)),
            groups=[FaceGroupPublic.from_group(g, params.max_members) for g in groups],
        )


SampleIds = Annotated[list[DbId], Field(min_length=1, max_length=MAX_SAMPLES)]
"""Sample ids of one group (a group holds at most `MAX_SAMPLES`)."""


class EnrollGroup(Strict):
    """POST /api/face-groups/enroll."""

    sample_ids: SampleIds
    name: str = Field(min_length=1, max_length=200)


class EnrollGroupResult(BaseModel):
    """The person created and how many face vectors they got (at most 12)."""

    person_id: int
    name: str
    enrolled_faces: int


class LabelSamples(Strict):
    """POST /api/face-groups/label: an empty or null label clears it."""

    sample_ids: SampleIds
    label: str | None = Field(max_length=200)


class LabelResult(BaseModel):
    """How many samples now carry the label."""

    updated: int
    label: str | None


class GroupClips(Strict):
    """POST /api/face-groups/clips."""

    sample_ids: SampleIds


class SampleClearAll(ClearAll):
    """POST /api/face-groups/samples/clear-all: `confirm` must be true; `label` narrows it."""

    label: str | None = Field(None, max_length=200)
