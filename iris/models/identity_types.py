"""Inputs, results and tunables of the identity layer (`iris.models.identity_core`)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from iris.models.appearance import APPEARANCE_DIM
from iris.types import Box, Sighting

MATCH_KINDS = ("person", "face", "appearance", "new")
VEHICLE_CLASSES = frozenset({"car", "truck", "bus", "motorcycle", "bicycle"})
"""Object classes that get vehicle attributes (colour, type)."""


class IdentityNotFound(LookupError):
    """An operation named an identity that does not exist (the API answers 404)."""

    def __init__(self, identity_id: int) -> None:
        super().__init__(f"identity {identity_id} not found")
        self.identity_id = identity_id


@dataclass(frozen=True, eq=False)
class SightingInput:
    """One track's observation as the Embedder hands it to the identity layer.

    Several inputs with the same ``(camera_id, track_id)`` close in time update one sighting.

    Attributes:
        camera_id: database id of the camera.
        track_id: camera-local track id.
        ts: epoch seconds of the first frame observed.
        end_ts: epoch seconds of the last frame observed (``None``: same as ``ts``).
        label: detector class name; it is the identity's object class.
        box: box in source-frame pixels.
        face_embedding: 512-d L2-normalised face vector, or ``None``.
        appearance: appearance vector of the gallery's dimension, or ``None``.
        quality: body-crop quality in ``[0, 1]``.
        face_quality: face quality in ``[0, 1]``; ``None`` means ``quality``.
        crop_jpeg: body crop JPEG (becomes the sighting thumbnail), or ``None``.
        face_jpeg: face crop JPEG (becomes a face sample), or ``None``.
        event_id: the recording this track belongs to, if any.
        color: vehicle colour name; computed from ``crop_jpeg`` when ``None``.
        color_hex: vehicle colour ``#rrggbb``.
    """

    camera_id: int
    track_id: int
    ts: float
    end_ts: float | None = None
    label: str = "person"
    box: Box | None = None
    face_embedding: np.ndarray | None = None
    appearance: np.ndarray | None = None
    quality: float = 0.0
    face_quality: float | None = None
    crop_jpeg: bytes | None = None
    face_jpeg: bytes | None = None
    event_id: int | None = None
    color: str | None = None
    color_hex: str | None = None

    @property
    def last_ts(self) -> float:
        """``end_ts`` when given, else ``ts``."""
        return self.ts if self.end_ts is None else max(self.ts, self.end_ts)

    @property
    def object_class(self) -> str:
        """The identity class this sighting belongs to (the detector label)."""
        return self.label

    @classmethod
    def from_sighting(cls, sighting: Sighting, **extra: Any) -> SightingInput:
        """Build from the pipeline's `iris.types.Sighting` plus the fields it lacks."""
        return cls(
            camera_id=sighting.camera_id,
            track_id=sighting.track_id,
            ts=sighting.ts,
            label=sighting.label,
            box=sighting.box,
            face_embedding=sighting.face_embedding,
            appearance=sighting.appearance,
            quality=sighting.quality,
            **extra,
        )


@dataclass(frozen=True)
class Assignment:
    """Where a sighting went.

    Attributes:
        identity_id: the identity it now belongs to.
        sighting_id: the sighting row (new, or the track's existing one).
        match_kind: ``person``, ``face``, ``appearance`` or ``new``.
        score: similarity of the match (``None`` for ``new``).
        person_id: the enrolled person, when the identity is linked to one.
        created: a new identity was made.
        updated_track: the input extended an existing sighting of the same track.
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
        track_gap_s: inputs of one track this close extend the same sighting.
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
