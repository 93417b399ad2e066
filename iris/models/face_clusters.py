"""Face groups: captured face samples clustered into same-person groups, on demand.

No Ray and no DB session here: the route loads rows, `samples_from_rows` turns them into
`SampleVectors`, `cluster_faces` groups them.

The method is greedy centroid ("leader") clustering in quality order. The best face seeds the
first group; every further face joins the group whose mean it resembles most, when that
similarity reaches ``face_threshold``, and starts a new group otherwise. Quality order makes
the result independent of the order rows arrive in, lets clear faces define groups before
blurry ones are judged, and makes each group's seed its best face: that seed's sample id is the
group's `group_id`, stable across refreshes until a better face of the same person arrives.
Comparing with group means rather than with single members avoids single-linkage chaining,
where A~B and B~C would join two different people through one ambiguous face.

Similarity is the cosine of the face embeddings, blended with the cosine of clothing vectors as
``(1 - clothing_weight) * face + clothing_weight * clothing`` when both sides have clothing.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

import numpy as np

from iris.db.tables import FaceSample
from iris.db.types import blob_to_vector
from iris.models.face_types import FACE_DIM

MAX_SAMPLES = 2000


@dataclass(frozen=True)
class ClusterParams:
    """Clustering settings (the query parameters of ``GET /api/face-groups``).

    Attributes:
        face_threshold: minimum (blended) cosine for a face to join a group, in ``[0, 1]``.
        clothing_weight: share of clothing similarity in the blend, in ``[0, 1]``.
        min_size: groups with fewer members are not returned.
        max_members: member thumbnails listed per group (the size counts them all).
        max_samples: the newest this many samples are clustered, at most `MAX_SAMPLES`.
    """

    face_threshold: float = 0.5
    clothing_weight: float = 0.0
    min_size: int = 1
    max_members: int = 40
    max_samples: int = MAX_SAMPLES

    def __post_init__(self) -> None:
        for name in ("face_threshold", "clothing_weight"):
            value = getattr(self, name)
            if not 0.0 <= value <= 1.0:
                raise ValueError(f"{name} must lie in [0, 1], got {value}")
        if self.min_size < 1:
            raise ValueError(f"min_size must be at least 1, got {self.min_size}")
        if self.max_members < 0:
            raise ValueError(f"max_members must not be negative, got {self.max_members}")
        if not 1 <= self.max_samples <= MAX_SAMPLES:
            raise ValueError(f"max_samples must lie in [1, {MAX_SAMPLES}], got {self.max_samples}")


@dataclass(frozen=True, eq=False)
class SampleVectors:
    """One captured face as the clustering sees it."""

    id: int
    camera_id: int
    ts: datetime
    quality: float
    label: str | None
    face: np.ndarray
    """``(512,)`` float32, unit length."""
    clothing: np.ndarray | None = None
    """Unit-length appearance vector of the person's body, when one was captured."""


@dataclass(frozen=True)
class FaceGroup:
    """One cluster of samples.

    Attributes:
        group_id: id of the representative sample (the group's best-quality face).
        member_ids: every member's sample id, best quality first.
        label: the most common label among members (ties: the better face's), or None.
        cameras: camera ids the members were captured on, ascending.
        first_seen: earliest capture.
        last_seen: latest capture.
    """

    group_id: int
    member_ids: tuple[int, ...]
    label: str | None
    cameras: tuple[int, ...]
    first_seen: datetime
    last_seen: datetime

    @property
    def size(self) -> int:
        return len(self.member_ids)


def _unit(blob: bytes | None, dim: int | None = None) -> np.ndarray | None:
    """The stored vector at unit length, or None when missing, misshapen or zero."""
    if not blob or len(blob) % 4:
        return None
    vector = blob_to_vector(blob).astype(np.float32)
    norm = float(np.linalg.norm(vector))
    if (dim is not None and vector.shape[0] != dim) or not np.isfinite(norm) or norm == 0.0:
        return None
    return vector / norm


def samples_from_rows(rows: Iterable[FaceSample]) -> list[SampleVectors]:
    """Rows with a usable 512-d face embedding, as `SampleVectors` (others are skipped)."""
    samples = []
    for row in rows:
        face = _unit(row.embedding, FACE_DIM)
        if face is None or row.id is None:
            continue
        samples.append(SampleVectors(
            id=row.id, camera_id=row.camera_id, ts=row.ts, quality=float(row.quality),
            label=row.label, face=face, clothing=_unit(row.clothing),
        ))
    return samples


def _clothing_matrix(samples: Sequence[SampleVectors]) -> tuple[np.ndarray, np.ndarray]:
    """``(n, d)`` clothing rows (zeros where missing) and the mask of rows that have one.

    Only the most common clothing dimension counts, so vectors of two appearance models
    are never compared with each other.
    """
    dims = Counter(s.clothing.shape[0] for s in samples if s.clothing is not None)
    if not dims:
        return np.zeros((len(samples), 1), np.float32), np.zeros(len(samples), bool)
    dim = dims.most_common(1)[0][0]
    matrix = np.zeros((len(samples), dim), np.float32)
    mask = np.zeros(len(samples), bool)
    for i, sample in enumerate(samples):
        if sample.clothing is not None and sample.clothing.shape[0] == dim:
            matrix[i], mask[i] = sample.clothing, True
    return matrix, mask


def _unit_row(row: np.ndarray) -> np.ndarray:
    return row / max(float(np.linalg.norm(row)), 1e-12)


def assign_clusters(samples: Sequence[SampleVectors], params: ClusterParams) -> list[list[int]]:
    """Indices into `samples` per cluster, each list best quality first (see module doc)."""
    order = sorted(range(len(samples)), key=lambda i: (-samples[i].quality, samples[i].id))
    n = len(order)
    faces = np.stack([samples[i].face for i in order]) if n else np.zeros((0, FACE_DIM))
    clothes, has_clothes = _clothing_matrix([samples[i] for i in order])
    blend = params.clothing_weight > 0 and bool(has_clothes.any())
    w = params.clothing_weight
    # Running sums per cluster and their unit-length means, updated one row per step.
    face_sum = np.zeros((n, faces.shape[1]), np.float32)
    face_mean = np.zeros_like(face_sum)
    cloth_sum = np.zeros((n, clothes.shape[1]), np.float32)
    cloth_mean = np.zeros_like(cloth_sum)
    cloth_count = np.zeros(n, np.int64)
    clusters: list[list[int]] = []
    for pos in range(n):
        k = len(clusters)
        best, best_sim = k, -np.inf
        if k:
            sims = face_mean[:k] @ faces[pos]
            if blend and has_clothes[pos]:
                cloth_sims = cloth_mean[:k] @ clothes[pos]
                sims = np.where(cloth_count[:k] > 0, (1 - w) * sims + w * cloth_sims, sims)
            best = int(np.argmax(sims))
            best_sim = float(sims[best])
        if best_sim < params.face_threshold:
            best = k
            clusters.append([])
        clusters[best].append(order[pos])
        face_sum[best] += faces[pos]
        face_mean[best] = _unit_row(face_sum[best])
        if has_clothes[pos]:
            cloth_sum[best] += clothes[pos]
            cloth_mean[best] = _unit_row(cloth_sum[best])
            cloth_count[best] += 1
    return clusters


def _majority_label(members: Sequence[SampleVectors]) -> str | None:
    # Counter keeps first-insertion order among equal counts: ties go to the better face.
    counts = Counter(m.label for m in members if m.label)
    return counts.most_common(1)[0][0] if counts else None


def cluster_faces(samples: Sequence[SampleVectors], params: ClusterParams) -> list[FaceGroup]:
    """Group the samples; groups of at least ``min_size``, largest first, then most recent."""
    groups = []
    for indices in assign_clusters(samples, params):
        if len(indices) < params.min_size:
            continue
        members = [samples[i] for i in indices]
        times = [m.ts for m in members]
        groups.append(FaceGroup(
            group_id=members[0].id,
            member_ids=tuple(m.id for m in members),
            label=_majority_label(members),
            cameras=tuple(sorted({m.camera_id for m in members})),
            first_seen=min(times),
            last_seen=max(times),
        ))
    groups.sort(key=lambda g: (-g.size, -g.last_seen.timestamp(), g.group_id))
    return groups
