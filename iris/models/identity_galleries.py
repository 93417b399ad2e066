"""Galleries of the identity layer: enrolled faces, identity faces, identity appearance.

Each gallery indexes DB rows by their ids; an owner map turns a row id into its person or
identity. Everything here reads the DB or memory only; `IdentityCore` does the writing.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import numpy as np
from sqlalchemy import select
from sqlalchemy.engine import Engine
from sqlmodel import Session, col

from iris.db.tables import AppearanceExemplar, FaceEmbedding, FaceExemplar
from iris.db.types import blob_to_vector
from iris.models.gallery import Gallery
from iris.models.identity_types import IdentityConfig

log = logging.getLogger(__name__)


class IdentityGalleries:
    """The three galleries, their owner maps, and lookups over them (base of IdentityCore).

    Attributes:
        engine: the database.
        root: the data root (crops go under ``identities/<id>/``).
        config: thresholds and limits.
    """

    def __init__(
        self, engine: Engine, root: Path | str, config: IdentityConfig | None = None
    ) -> None:
        """Create the galleries and load them from the database."""
        self.engine = engine
        self.root = Path(root).resolve()
        self.config = config or IdentityConfig()
        cfg = self.config
        self._lock = threading.RLock()
        self._people = Gallery(cfg.face_dim, "flat")
        self._faces = Gallery(cfg.face_dim, cfg.gallery_kind)  # type: ignore[arg-type]
        self._looks = Gallery(cfg.appearance_dim, cfg.gallery_kind)  # type: ignore[arg-type]
        self._person_of: dict[int, int] = {}  # FaceEmbedding.id -> Person.id
        self._face_owner: dict[int, int] = {}  # FaceExemplar.id -> Identity.id
        self._look_owner: dict[int, int] = {}  # AppearanceExemplar.id -> Identity.id
        self.rebuild_from_db()

    # ------------------------------------------------------------------------- loading
    def rebuild_from_db(self) -> dict[str, int]:
        """Reload every gallery from the database (after writes made elsewhere)."""
        with self._lock, Session(self.engine) as session:
            self._person_of = self._load(session, FaceEmbedding, col(FaceEmbedding.person_id),
                                         self._people)
            self._face_owner = self._load(session, FaceExemplar, col(FaceExemplar.identity_id),
                                          self._faces)
            self._look_owner = self._load(session, AppearanceExemplar,
                                          col(AppearanceExemplar.identity_id), self._looks)
        return self.stats()

    def reload_people(self) -> int:
        """Reload only the enrolled-people gallery (after People API changes); returns size."""
        with self._lock, Session(self.engine) as session:
            self._person_of = self._load(session, FaceEmbedding, col(FaceEmbedding.person_id),
                                         self._people)
        return len(self._people)

    @staticmethod
    def _load(session: Session, table: Any, owner_col: Any, gallery: Gallery) -> dict[int, int]:
        ids: list[int] = []
        owners: list[int] = []
        vectors: list[np.ndarray] = []
        skipped = 0
        rows = session.execute(select(col(table.id), owner_col, col(table.vector))).yield_per(5000)
        for row_id, owner, blob in rows:
            vec = blob_to_vector(blob)
            if vec.shape[0] != gallery.dim or not np.isfinite(vec).all():
                skipped += 1
                continue
            ids.append(row_id)
            owners.append(owner)
            vectors.append(vec)
        if skipped:
            log.warning("identity: skipped %d %s rows of the wrong size (not %d-d)",
                        skipped, table.__tablename__, gallery.dim)
        matrix = np.stack(vectors) if vectors else np.empty((0, gallery.dim), np.float32)
        gallery.rebuild(np.asarray(ids, np.int64), matrix)
        return dict(zip(ids, owners, strict=True))

    def stats(self) -> dict[str, int]:
        """Gallery sizes, and how many people / identities they cover."""
        with self._lock:
            return {
                "people_faces": len(self._people),
                "people": len(set(self._person_of.values())),
                "identity_faces": len(self._faces),
                "identity_appearance": len(self._looks),
                "identities_with_faces": len(set(self._face_owner.values())),
                "identities_with_appearance": len(set(self._look_owner.values())),
            }

    # ------------------------------------------------------------------------- matching
    def match_person(self, embedding: np.ndarray) -> tuple[int, float] | None:
        """The enrolled person this face belongs to, with the similarity, or ``None``."""
        vec = self._vector(embedding, self.config.face_dim, "face")
        if vec is None:
            return None
        with self._lock:
            return self._best(self._people, self._person_of, vec, self.config.person_threshold)

    def nearest(self, kind: str, vector: np.ndarray, k: int = 5) -> list[tuple[int, float]]:
        """Identities (``kind`` ``face`` or ``appearance``) or people (``person``) nearest a
        vector, as ``(id, best similarity)`` best first.

        Raises:
            ValueError: an unknown kind.
        """
        table = {
            "face": (self._faces, self._face_owner, self.config.face_dim),
            "appearance": (self._looks, self._look_owner, self.config.appearance_dim),
            "person": (self._people, self._person_of, self.config.face_dim),
        }
        if kind not in table:
            raise ValueError(f"kind must be one of {sorted(table)}, got {kind!r}")
        gallery, owner, dim = table[kind]
        vec = self._vector(vector, dim, kind)
        if vec is None:
            return []
        with self._lock:
            return self._ranked(gallery, owner, vec, -1.0, max(k, 1) * 4)[:k]

    @staticmethod
    def _best(
        gallery: Gallery, owner: dict[int, int], vec: np.ndarray, threshold: float, k: int = 1
    ) -> tuple[int, float] | None:
        if not len(gallery):
            return None
        scores, ids = gallery.search(vec, k)
        for score, row_id in zip(scores[0].tolist(), ids[0].tolist(), strict=True):
            if row_id >= 0 and score >= threshold and row_id in owner:
                return owner[row_id], float(score)
        return None

    def _ranked(
        self, gallery: Gallery, owner: dict[int, int], vec: np.ndarray, threshold: float, k: int
    ) -> list[tuple[int, float]]:
        """Identities by best exemplar similarity, best first, at or above ``threshold``."""
        if not len(gallery):
            return []
        scores, ids = gallery.search(vec, k)
        best: dict[int, float] = {}
        for score, row_id in zip(scores[0].tolist(), ids[0].tolist(), strict=True):
            if row_id >= 0 and score >= threshold and row_id in owner:
                ident = owner[row_id]
                best[ident] = max(best.get(ident, -1.0), float(score))
        return sorted(best.items(), key=lambda kv: -kv[1])

    @staticmethod
    def _vector(value: np.ndarray | None, dim: int, what: str) -> np.ndarray | None:
        if value is None:
            return None
        vec = np.asarray(value, np.float32).reshape(-1)
        norm = float(np.linalg.norm(vec)) if vec.size else 0.0
        if vec.shape[0] != dim or not np.isfinite(norm) or norm == 0.0:
            log.warning("identity: ignoring a %s vector of shape %s (want %d-d)",
                        what, vec.shape, dim)
            return None
        return vec / norm

    # ------------------------------------------------------------------------- galleries
    def _apply(self, ops: Iterable[tuple[str, int, int, np.ndarray | None]]) -> None:
        """Bring galleries in line with committed rows.

        Ops are ``(kind, exemplar id, identity id, vector)``: kind ``face``/``look`` adds the
        vector (or removes the id when the vector is ``None``); ``own-face``/``own-look`` only
        hands an exemplar to another identity.
        """
        for kind, row_id, identity_id, vec in ops:
            gallery, owner = (
                (self._faces, self._face_owner) if kind.endswith("face")
                else (self._looks, self._look_owner)
            )
            if kind.startswith("own-"):
                if row_id in owner:
                    owner[row_id] = identity_id
            elif vec is None:
                gallery.remove([row_id])
                owner.pop(row_id, None)
            else:
                gallery.add([row_id], vec)
                owner[row_id] = identity_id
