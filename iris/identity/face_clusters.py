"""Face groups: captured face samples clustered into same-person groups, on demand.

No Ray and no database here: the route turns its rows into `FaceSamples` (parallel arrays),
`cluster_faces` groups them.

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
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

import numpy as np

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
class FaceSamples:
    """Captured faces as parallel arrays: row ``i`` of every field is one sample.

    Attributes:
        ids: ``(n,)`` int64 sample ids.
        camera_ids: ``(n,)`` int64 cameras they were captured on.
        ts: ``n`` capture times.
        quality: ``(n,)`` float64 face quality; the best face seeds its group.
        labels: ``n`` operator labels, or ``None``.
        faces: ``(n, 512)`` float32 unit-length face embeddings.
        clothing: ``(n, d)`` float32 unit-length appearance vectors of the person's body,
            zero rows where ``has_clothing`` is false.
        has_clothing: ``(n,)`` bool.
    """

    ids: np.ndarray
    camera_ids: np.ndarray
    ts: tuple[datetime, ...]
    quality: np.ndarray
    labels: tuple[str | None, ...]
    faces: np.ndarray
    clothing: np.ndarray
    has_clothing: np.ndarray

    def __post_init__(self) -> None:
        n = len(self.ids)
        for name in ("camera_ids", "ts", "quality", "labels", "faces", "clothing",
                     "has_clothing"):
            if len(getattr(self, name)) != n:
                raise ValueError(f"FaceSamples.{name} has {len(getattr(self, name))} rows, "
                                 f"ids has {n}")
        if self.faces.shape != (n, FACE_DIM):
            raise ValueError(f"FaceSamples.faces must be ({n}, {FACE_DIM}), got "
                             f"{self.faces.shape}")

    def __len__(self) -> int:
        return len(self.ids)

    @classmethod
    def from_vectors(
        cls,
        *,
        ids: Sequence[int],
        camera_ids: Sequence[int],
        ts: Sequence[datetime],
        quality: Sequence[float],
        labels: Sequence[str | None],
        faces: Sequence[np.ndarray | None],
        clothing: Sequence[np.ndarray | None],
    ) -> FaceSamples:
        """Samples from raw stored vectors, scaled to unit length.

        A sample whose face is missing, not 512-d or zero is left out. A clothing vector that
        is missing or zero counts as none; of several clothing sizes only the most common one
        is kept, so vectors of two appearance models are never compared with each other.
        """
        kept = [(i, unit) for i, face in enumerate(faces)
                if (unit := _unit(face, FACE_DIM)) is not None]
        usable = [i for i, _ in kept]
        looks = [_unit(clothing[i]) for i in usable]
        dims = Counter(v.shape[0] for v in looks if v is not None)
        dim = dims.most_common(1)[0][0] if dims else 1
        matrix = np.zeros((len(usable), dim), np.float32)
        mask = np.zeros(len(usable), bool)
        for row, look in enumerate(looks):
            if look is not None and look.shape[0] == dim:
                matrix[row], mask[row] = look, True
        return cls(
            ids=np.asarray([ids[i] for i in usable], np.int64),
            camera_ids=np.asarray([camera_ids[i] for i in usable], np.int64),
            ts=tuple(ts[i] for i in usable),
            quality=np.asarray([quality[i] for i in usable], np.float64),
            labels=tuple(labels[i] for i in usable),
            faces=(np.stack([unit for _, unit in kept]) if kept
                   else np.zeros((0, FACE_DIM), np.float32)),
            clothing=matrix,
            has_clothing=mask,
        )


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


def _unit(vector: np.ndarray | None, dim: int | None = None) -> np.ndarray | None:
    """The vector at unit length, or None when missing, misshapen or zero."""
    if vector is None:
        return None
    vector = np.asarray(vector, np.float32).reshape(-1)
    norm = float(np.linalg.norm(vector)) if vector.size else 0.0
    if (dim is not None and vector.shape[0] != dim) or not np.isfinite(norm) or norm == 0.0:
        return None
    return vector / norm


def _unit_row(row: np.ndarray) -> np.ndarray:
    return row / max(float(np.linalg.norm(row)), 1e-12)


def assign_clusters(samples: FaceSamples, params: ClusterParams) -> list[list[int]]:
    """Indices into `samples` per cluster, each list best quality first (see module doc)."""
    quality, ids = samples.quality.tolist(), samples.ids.tolist()
    order = sorted(range(len(samples)), key=lambda i: (-quality[i], ids[i]))
    n = len(order)
    faces = samples.faces[order]
    clothes, has_clothes = samples.clothing[order], samples.has_clothing[order]
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


def _majority_label(labels: Sequence[str | None]) -> str | None:
    # Counter keeps first-insertion order among equal counts: ties go to the better face.
    counts = Counter(label for label in labels if label)
    return counts.most_common(1)[0][0] if counts else None


def cluster_faces(samples: FaceSamples, params: ClusterParams) -> list[FaceGroup]:
    """Group the samples; groups of at least ``min_size``, largest first, then most recent."""
    groups = []
    for indices in assign_clusters(samples, params):
        if len(indices) < params.min_size:
            continue
        times = [samples.ts[i] for i in indices]
        groups.append(FaceGroup(
            group_id=int(samples.ids[indices[0]]),
            member_ids=tuple(int(samples.ids[i]) for i in indices),
            label=_majority_label([samples.labels[i] for i in indices]),
            cameras=tuple(sorted({int(samples.camera_ids[i]) for i in indices})),
            first_seen=min(times),
            last_seen=max(times),
        ))
    groups.sort(key=lambda g: (-g.size, -g.last_seen.timestamp(), g.group_id))
    return groups
