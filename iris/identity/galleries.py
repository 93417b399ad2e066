"""Galleries of the identity layer: enrolled faces, identity faces, identity appearance.

Each gallery indexes database rows by their ids (FAISS, `iris.models.gallery`) and knows who
owns each row: a person or an identity. The galleries are derived state: they change only
through `GalleryChanges` applied after a commit, or by reloading rows from the database.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass, field

import numpy as np

from iris.db.types import blob_to_vector
from iris.identity.types import ExemplarKind, IdentityConfig
from iris.models.gallery import Gallery

log = logging.getLogger(__name__)


def unit_vector(value: np.ndarray | None, dim: int, what: str) -> np.ndarray | None:
    """``value`` as a unit-length float32 row of ``dim``, or ``None`` (logged) if it is not one."""
    if value is None:
        return None
    vec = np.asarray(value, np.float32).reshape(-1)
    norm = float(np.linalg.norm(vec)) if vec.size else 0.0
    if vec.shape[0] != dim or not np.isfinite(norm) or norm == 0.0:
        log.warning("identity: ignoring a %s vector of shape %s (want %d-d)",
                    what, vec.shape, dim)
        return None
    return vec / norm


class OwnedGallery:
    """A gallery of database rows and the owner (person or identity id) of each row.

    Attributes:
        index: the FAISS gallery, keyed by row id.
        owner: row id -> owner id.
    """

    def __init__(self, dim: int, kind: str = "flat") -> None:
        self.index = Gallery(dim, kind)  # type: ignore[arg-type]
        self.owner: dict[int, int] = {}

    def __len__(self) -> int:
        return len(self.index)

    def load(self, rows: Iterable[tuple[int, int, bytes]], what: str) -> None:
        """Replace the contents with ``(row id, owner id, vector blob)`` rows.

        Rows whose vector is not of the gallery's size (or not finite) are skipped and logged.
        """
        dim = self.index.dim
        ids: list[int] = []
        owners: list[int] = []
        vectors: list[np.ndarray] = []
        skipped = 0
        for row_id, owner, blob in rows:
            vec = blob_to_vector(blob)
            if vec.shape[0] != dim or not np.isfinite(vec).all():
                skipped += 1
                continue
            ids.append(row_id)
            owners.append(owner)
            vectors.append(vec)
        if skipped:
            log.warning("identity: skipped %d %s rows of the wrong size (not %d-d)",
                        skipped, what, dim)
        matrix = np.stack(vectors) if vectors else np.empty((0, dim), np.float32)
        self.index.rebuild(np.asarray(ids, np.int64), matrix)
        self.owner = dict(zip(ids, owners, strict=True))

    def add(self, row_id: int, owner: int, vector: np.ndarray) -> None:
        """Index one row for ``owner``."""
        self.index.add([row_id], vector)
        self.owner[row_id] = owner

    def remove(self, row_id: int) -> None:
        """Forget one row."""
        self.index.remove([row_id])
        self.owner.pop(row_id, None)

    def hand_over(self, row_id: int, owner: int) -> None:
        """Give an indexed row to another owner (its vector stays)."""
        if row_id in self.owner:
            self.owner[row_id] = owner

    def owners(self) -> set[int]:
        """Every owner with at least one row."""
        return set(self.owner.values())

    def best(self, vec: np.ndarray, threshold: float, k: int = 1) -> tuple[int, float] | None:
        """The owner of the most similar row among the ``k`` nearest, at or above ``threshold``."""
        if not len(self.index):
            return None
        scores, ids = self.index.search(vec, k)
        for score, row_id in zip(scores[0].tolist(), ids[0].tolist(), strict=True):
            if row_id >= 0 and score >= threshold and row_id in self.owner:
                return self.owner[row_id], float(score)
        return None

    def ranked(self, vec: np.ndarray, threshold: float, k: int) -> list[tuple[int, float]]:
        """Owners by best row similarity among the ``k`` nearest rows, best first."""
        if not len(self.index):
            return []
        scores, ids = self.index.search(vec, k)
        best: dict[int, float] = {}
        for score, row_id in zip(scores[0].tolist(), ids[0].tolist(), strict=True):
            if row_id >= 0 and score >= threshold and row_id in self.owner:
                owner = self.owner[row_id]
                best[owner] = max(best.get(owner, -1.0), float(score))
        return sorted(best.items(), key=lambda kv: -kv[1])

    def vectors_by_owner(self, owners: Iterable[int]) -> dict[int, list[np.ndarray]]:
        """The indexed vectors of the given owners."""
        wanted = set(owners)
        ids, vecs = self.index.vectors()
        grouped: dict[int, list[np.ndarray]] = {}
        for k, row_id in enumerate(ids.tolist()):
            owner = self.owner.get(row_id)
            if owner in wanted:
                grouped.setdefault(owner, []).append(vecs[k])
        return grouped


@dataclass
class GalleryChanges:
    """Gallery updates a transaction implies, applied to `IdentityGalleries` after it commits.

    Exemplar ids are database ids: a row handed to another identity keeps its vector.
    """

    steps: list[tuple[str, ExemplarKind, int, int, np.ndarray | None]] = field(
        default_factory=list)
    """``(what, kind, row id, identity id, vector)`` in the order they happened."""

    def add(self, kind: ExemplarKind, row_id: int, identity_id: int, vector: np.ndarray) -> None:
        """A new exemplar row of ``identity_id``."""
        self.steps.append(("add", kind, row_id, identity_id, vector))

    def remove(self, kind: ExemplarKind, row_ids: Iterable[int]) -> None:
        """Exemplar rows deleted."""
        self.steps += [("remove", kind, row_id, -1, None) for row_id in row_ids]

    def hand_over(self, kind: ExemplarKind, row_ids: Iterable[int], identity_id: int) -> None:
        """Exemplar rows that now belong to ``identity_id``."""
        self.steps += [("hand_over", kind, row_id, identity_id, None) for row_id in row_ids]


class IdentityGalleries:
    """The three galleries and the lookups over them.

    Attributes:
        people: enrolled faces (`FaceEmbedding` rows) -> person ids.
        faces: identity face exemplars (`FaceExemplar` rows) -> identity ids.
        looks: identity appearance exemplars (`AppearanceExemplar` rows) -> identity ids.
    """

    def __init__(self, config: IdentityConfig) -> None:
        self.config = config
        self.people = OwnedGallery(config.face_dim, "flat")
        self.faces = OwnedGallery(config.face_dim, config.gallery_kind)
        self.looks = OwnedGallery(config.appearance_dim, config.gallery_kind)

    def exemplars(self, kind: ExemplarKind) -> OwnedGallery:
        """The identity gallery of one exemplar kind."""
        return self.faces if kind == "face" else self.looks

    def apply(self, changes: GalleryChanges) -> None:
        """Bring the galleries in line with committed rows, step by step in order."""
        for what, kind, row_id, identity_id, vec in changes.steps:
            gallery = self.exemplars(kind)
            if what == "hand_over":
                gallery.hand_over(row_id, identity_id)
            elif vec is None:
                gallery.remove(row_id)
            else:
                gallery.add(row_id, identity_id, vec)

    def stats(self) -> dict[str, int]:
        """Gallery sizes, and how many people / identities they cover."""
        return {
            "people_faces": len(self.people),
            "people": len(self.people.owners()),
            "identity_faces": len(self.faces),
            "identity_appearance": len(self.looks),
            "identities_with_faces": len(self.faces.owners()),
            "identities_with_appearance": len(self.looks.owners()),
        }

    def nearest(self, kind: str, vector: np.ndarray, k: int = 5) -> list[tuple[int, float]]:
        """Identities (``kind`` ``face`` or ``appearance``) or people (``person``) nearest a
        vector, as ``(id, best similarity)`` best first.

        Raises:
            ValueError: an unknown kind.
        """
        table = {
            "face": (self.faces, self.config.face_dim),
            "appearance": (self.looks, self.config.appearance_dim),
            "person": (self.people, self.config.face_dim),
        }
        if kind not in table:
            raise ValueError(f"kind must be one of {sorted(table)}, got {kind!r}")
        gallery, dim = table[kind]
        vec = unit_vector(vector, dim, kind)
        if vec is None:
            return []
        return gallery.ranked(vec, -1.0, max(k, 1) * 4)[:k]
