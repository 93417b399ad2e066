"""Results, errors and tunables of the identity layer (`iris.identity.core`).

What a camera sends in is `iris.types.Observation`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from iris.models.appearance import APPEARANCE_DIM

ExemplarKind = Literal["face", "look"]
"""Which identity gallery an exemplar belongs to: faces, or appearance ("look")."""

VEHICLE_CLASSES = frozenset({"car", "truck", "bus", "motorcycle", "bicycle"})
"""Object classes that get vehicle attributes (colour, type)."""


class IdentityNotFound(LookupError):
    """An operation named an identity that does not exist (the API answers 404)."""

    def __init__(self, identity_id: int) -> None:
        super().__init__(f"identity {identity_id} not found")
        self.identity_id = identity_id


@dataclass(frozen=True)
class Assignment:
    """Where an observation went.

    Attributes:
        identity_id: the identity it now belongs to.
        sighting_id: the sighting row (new, or the track's existing one).
        match_kind: ``person``, ``face``, ``appearance`` or ``new``.
        score: similarity of the match (``None`` for ``new``).
        person_id: the enrolled person, when the identity is linked to one.
        created: a new identity was made.
        updated_track: the observation extended an existing sighting of the same track.
    """

    identity_id: int
    sighting_id: int
    match_kind: str
    score: float | None = None
    person_id: int | None = None
    created: bool = False
    updated_track: bool = False


@dataclass(frozen=True)
class OpResult:
    """Outcome of merge / split / delete, as the API's ``IdentityOpResult``.

    Attributes:
        ok: the operation changed what it was asked to.
        target_id: the surviving (merge) or new (split) identity.
        affected_ids: identities removed (merge, delete) or created/changed (split).
        moved_sightings: sightings that changed identity.
        detail: one sentence for the operator.
    """

    ok: bool
    target_id: int | None = None
    affected_ids: list[int] = field(default_factory=list)
    moved_sightings: int = 0
    detail: str = ""


@dataclass(frozen=True)
class IdentityConfig:
    """Thresholds (cosine similarities) and limits of the identity layer.

    Attributes:
        person_threshold: face to enrolled person, to link an identity to the person.
        face_threshold: face to an identity's face exemplars.
        face_veto: an appearance match is refused when both sides have faces less alike.
        appearance_threshold: appearance to an identity's appearance exemplars.
        appearance_window_s: appearance matches only identities seen this recently.
        track_gap_s: observations of one track this close extend the same sighting.
        presence_gap_s: sightings on one camera this close form one presence segment.
        max_face_exemplars: face exemplars kept per identity (best quality).
        max_appearance_exemplars: appearance exemplars kept per identity (best quality).
        merge_face_threshold: maintenance merges unnamed identities whose face centroids
            are at least this alike.
        merge_appearance_threshold: the same for appearance centroids of identities without
            faces; ``None`` disables it (clothing alone is weak evidence).
        gallery_kind: FAISS index kind of the identity galleries.
        face_dim: face vector length.
        appearance_dim: appearance vector length.
    """

    person_threshold: float = 0.45
    face_threshold: float = 0.45
    face_veto: float = 0.25
    appearance_threshold: float = 0.85
    appearance_window_s: float = 600.0
    track_gap_s: float = 60.0
    presence_gap_s: float = 30.0
    max_face_exemplars: int = 12
    max_appearance_exemplars: int = 12
    merge_face_threshold: float = 0.55
    merge_appearance_threshold: float | None = None
    gallery_kind: str = "flat"
    face_dim: int = 512
    appearance_dim: int = APPEARANCE_DIM
