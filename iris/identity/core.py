"""IdentityManager logic: observations -> identities across cameras, and operator corrections.

`IdentityCore` has three galleries over database rows (`IdentityGalleries`: enrolled people's
faces, identity face exemplars, identity appearance exemplars). `assign` files an observation
under an identity, trying in order: the track's own recent sighting, an enrolled person (face),
an identity's face exemplars, an identity's appearance exemplars (same class, seen recently,
not on the same camera at the same time, no contradicting face), else a new provisional
identity. Corrections are functions of their own modules (`merge`, `split`, `delete`,
`maintenance`) run through `IdentityCore.run`, the one transaction runner. The DB stays the
source of truth: galleries change only after a commit, and `rebuild_from_db` reloads them
whenever something else wrote to the tables. SQL lives in `iris.identity.store` (and
`iris.identity.moves` for moving rows between identities).

No Ray here: the `IdentityManager` actor shell calls these methods, one at a time or from
threads (a lock serialises them).
"""

from __future__ import annotations

import logging
import threading
from collections import OrderedDict
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TypeVar

import cv2
import numpy as np
from sqlalchemy.engine import Engine
from sqlmodel import Session

from iris.db import tables
from iris.db.engine import session_scope
from iris.db.types import blob_to_vector
from iris.identity import store
from iris.identity.change import Change
from iris.identity.delete import remove_identities
from iris.identity.epoch import to_dt, to_epoch
from iris.identity.files import FileJournal
from iris.identity.galleries import IdentityGalleries, unit_vector
from iris.identity.maintenance import groups_to_merge
from iris.identity.merge import merge_identities, merge_sources
from iris.identity.split import split_identity
from iris.identity.types import (
    VEHICLE_CLASSES,
    Assignment,
    ExemplarKind,
    IdentityConfig,
    OpResult,
)
from iris.layout import identity_file
from iris.models.appearance import vehicle_color
from iris.types import Observation

log = logging.getLogger(__name__)
T = TypeVar("T")
TRACK_CACHE = 50_000
"""Recent ``(camera, track) -> sighting`` entries kept in memory."""


class IdentityCore:
    """Cross-camera identities over a SQLModel database and a data root.

    Attributes:
        engine: the database.
        root: the data root (crops go under ``identities/<id>/``).
        config: thresholds and limits.
        galleries: the galleries, derived from the database.
    """

    def __init__(
        self, engine: Engine, root: Path | str, config: IdentityConfig | None = None
    ) -> None:
        """Create the galleries and load them from the database."""
        self.engine = engine
        self.root = Path(root).resolve()
        self.config = config or IdentityConfig()
        self.galleries = IdentityGalleries(self.config)
        self._lock = threading.RLock()
        self._tracks: OrderedDict[tuple[int, int], int] = OrderedDict()  # -> Sighting.id
        self._warm_since: dict[int, float] = {}  # camera -> ts of its first sighting since start
        self.rebuild_from_db()

    # ------------------------------------------------------------------------- transactions
    def run(self, work: Callable[[Change], T]) -> T:
        """Run ``work`` in one transaction; crops are undone if it fails, galleries follow the
        commit.

        Raises:
            sqlalchemy.exc.SQLAlchemyError: the database refused the write (nothing changed).
        """
        with self._lock:
            files = FileJournal(self.root)
            try:
                with session_scope(self.engine) as session:
                    change = Change(session, files, self.config)
                    result = work(change)
            except BaseException:
                files.rollback()
                raise
            files.commit()
            self.galleries.apply(change.galleries)
            return result

    # ------------------------------------------------------------------------- galleries
    def rebuild_from_db(self) -> dict[str, int]:
        """Reload every gallery from the database (after writes made elsewhere)."""
        with self._lock, Session(self.engine) as session:
            self.galleries.people.load(store.gallery_rows(session, None), "face_embeddings")
            self.galleries.faces.load(store.gallery_rows(session, "face"), "face_exemplars")
            self.galleries.looks.load(store.gallery_rows(session, "look"),
                                      "appearance_exemplars")
        return self.stats()

    def reload_people(self) -> int:
        """Reload only the enrolled-people gallery (after People API changes); returns size."""
        with self._lock, Session(self.engine) as session:
            self.galleries.people.load(store.gallery_rows(session, None), "face_embeddings")
        return len(self.galleries.people)

    def stats(self) -> dict[str, int]:
        """Gallery sizes, and how many people / identities they cover."""
        with self._lock:
            return self.galleries.stats()

    def match_person(self, embedding: np.ndarray) -> tuple[int, float] | None:
        """The enrolled person this face belongs to, with the similarity, or ``None``."""
        vec = unit_vector(embedding, self.config.face_dim, "face")
        if vec is None:
            return None
        with self._lock:
            return self.galleries.people.best(vec, self.config.person_threshold)

    def nearest(self, kind: str, vector: np.ndarray, k: int = 5) -> list[tuple[int, float]]:
        """See `IdentityGalleries.nearest`."""
        with self._lock:
            return self.galleries.nearest(kind, vector, k)

    # ------------------------------------------------------------------------- corrections
    def merge(self, target_id: int, source_ids: Sequence[int]) -> OpResult:
        """Fold ``source_ids`` into ``target_id`` (see `iris.identity.merge`).

        Raises:
            IdentityNotFound: the target, or every source, does not exist.
            ValueError: no source besides the target.
        """
        sources = merge_sources(target_id, source_ids)
        return self.run(lambda change: merge_identities(change, int(target_id), sources))

    def split(
        self,
        identity_id: int,
        sighting_ids: Sequence[int] | None = None,
        auto: bool = False,
        new_name: str | None = None,
    ) -> OpResult:
        """Peel sightings off into a new identity (see `iris.identity.split`).

        Raises:
            IdentityNotFound: no such identity.
            ValueError: neither sightings nor ``auto``; no given sighting belongs to the
                identity; every sighting given (nothing would remain).
        """
        if not sighting_ids and not auto:
            raise ValueError("split needs sighting_ids or auto=true")
        return self.run(lambda change: split_identity(change, int(identity_id), sighting_ids,
                                                      auto, new_name))

    def delete(self, identity_ids: Sequence[int]) -> OpResult:
        """Recursive delete (rows, crops, solo events; shared events only unlinked)."""
        ids = [int(i) for i in dict.fromkeys(identity_ids)]
        return self.run(lambda change: remove_identities(change, ids))

    def maintenance(self) -> list[OpResult]:
        """Merge unnamed identities whose face (and, if enabled, appearance) centroids agree.

        Named identities and those linked to an enrolled person are never touched. Each group
        folds into its oldest identity. Returns one result per merge.
        """
        results: list[OpResult] = []
        with self._lock:
            with Session(self.engine) as session:
                free = store.unnamed_unlinked(session)
            for group in groups_to_merge(self.galleries, free, self.config):
                target, *rest = sorted(group)
                results.append(self.merge(target, rest))
                log.info("identity maintenance: %s", results[-1].detail)
        return results

    # ------------------------------------------------------------------------- assign
    def assign(self, observation: Observation) -> Assignment:
        """File one observation under an identity, persisting rows, crops and galleries.

        Raises:
            sqlalchemy.exc.SQLAlchemyError: the database refused the write (nothing changed).
        """
        cfg = self.config
        face = unit_vector(observation.face_embedding, cfg.face_dim, "face")
        look = unit_vector(observation.appearance, cfg.appearance_dim, "appearance")
        with self._lock:
            result = self.run(lambda change: self._assign(change, observation, face, look))
            self._remember_track(observation, result.sighting_id)
            return result

    def _track_sighting(self, session: Session, s: Observation) -> tables.Sighting | None:
        """The sighting this camera track is extending, if it was seen within the track gap.

        A cache keyed by ``(camera, track)`` answers without a query; only while a camera is
        "cold" (within the gap of its first sighting since start) can a track predate the
        cache, so only then is the database asked.
        """
        gap = self.config.track_gap_s
        cached = self._tracks.get((s.camera_id, s.track_id))
        if cached is not None:
            row = store.get_sighting(session, cached)
            if (
                row is not None
                and (row.camera_id, row.track_id) == (s.camera_id, s.track_id)
                and to_epoch(row.end_ts or row.ts) >= s.ts - gap
            ):
                return row
        warm_from = self._warm_since.setdefault(s.camera_id, s.ts)
        if s.ts - warm_from <= gap:
            return store.find_track_sighting(session, s.camera_id, s.track_id, s.ts, gap)
        return None

    def _remember_track(self, s: Observation, sighting_id: int) -> None:
        key = (s.camera_id, s.track_id)
        self._tracks[key] = sighting_id
        self._tracks.move_to_end(key)
        while len(self._tracks) > TRACK_CACHE:
            self._tracks.popitem(last=False)

    def _assign(
        self, change: Change, s: Observation, face: np.ndarray | None, look: np.ndarray | None
    ) -> Assignment:
        cfg, session = self.config, change.session
        person = self.galleries.people.best(face, cfg.person_threshold) if (
            face is not None
        ) else None
        row = self._track_sighting(session, s)
        created = False
        if row is not None:
            identity = store.get_identity(session, row.identity_id)
            assert identity is not None
            kind, score = row.match_kind, row.score
            if person is not None and identity.person_id is None and not identity.is_named:
                store.link_person(session, identity, person[0])
        else:
            identity, kind, score = self._resolve(session, s, face, look, person)
            if identity is None:
                identity, created = self._new_identity(session, s, person), True
                kind, score = ("person", person[1]) if person else ("new", None)
            assert identity.id is not None
            row = tables.Sighting(identity_id=identity.id, camera_id=s.camera_id,
                                  track_id=s.track_id, label=s.label, match_kind=kind,
                                  score=score, ts=to_dt(s.ts))
            identity.num_sightings += 1
        assert identity.id is not None
        updated = row.id is not None
        prior_quality = None if row.id is None else store.best_exemplar_quality(
            session, identity.id, row.id)
        row.end_ts = to_dt(max(s.last_ts, to_epoch(row.end_ts or row.ts)))
        if s.box is not None:
            row.box = ",".join(f"{v:.1f}" for v in s.box)
        row_id = store.save_sighting(session, row)
        store.link_event(session, row, identity, s.event_id)
        better = prior_quality is None or s.quality > prior_quality
        if s.crop_jpeg and (row.thumb_path is None or better):
            rel = identity_file(identity.id, f"sighting-{row_id}.jpg")
            row.thumb_path = change.files.write(rel, s.crop_jpeg)
            rep = identity.rep_sighting_id
            rep_quality = None if rep is None or rep == row_id else store.best_exemplar_quality(
                session, identity.id, rep)
            if rep is None or rep == row_id or rep_quality is None or s.quality > rep_quality:
                identity.rep_sighting_id = row_id
        self._keep_exemplars(change, identity.id, row_id, s, face, look, fresh=not updated)
        if face is not None and s.face_jpeg:
            store.keep_face_sample(session, change.files, identity.id, row, s, face, look,
                                   fresh=not updated)
        identity.total_seconds += store.extend_presence(
            session, identity.id, s.camera_id, s.ts, s.last_ts, cfg.presence_gap_s
        )
        first, last = to_dt(s.ts), to_dt(s.last_ts)
        identity.first_seen = min(identity.first_seen or first, first)
        identity.last_seen = max(identity.last_seen or last, last)
        if s.label in VEHICLE_CLASSES:
            _vehicle_attrs(identity, s)
        return Assignment(
            identity_id=identity.id,
            sighting_id=row_id,
            match_kind=kind,
            score=score,
            person_id=identity.person_id,
            created=created,
            updated_track=updated,
        )

    def _resolve(
        self,
        session: Session,
        s: Observation,
        face: np.ndarray | None,
        look: np.ndarray | None,
        person: tuple[int, float] | None,
    ) -> tuple[tables.Identity | None, str, float | None]:
        cfg = self.config
        if person is not None:
            return store.latest_identity_of_person(session, person[0]), "person", person[1]
        if face is not None:
            for ident, score in self.galleries.faces.ranked(face, cfg.face_threshold, 16):
                found = store.get_identity(session, ident)
                if found is not None and found.object_class == s.label:
                    return found, "face", score
        if look is not None:
            since = to_dt(s.ts - cfg.appearance_window_s)
            until = to_dt(s.last_ts + cfg.appearance_window_s)
            for ident, score in self.galleries.looks.ranked(look, cfg.appearance_threshold, 32):
                found = store.get_identity(session, ident)
                if (
                    found is None
                    or found.object_class != s.label
                    or found.last_seen is None
                    or found.last_seen < since
                    or (found.first_seen is not None and found.first_seen > until)
                    or store.concurrent_on_camera(session, ident, s.camera_id, s.track_id,
                                                  s.ts, s.last_ts)
                    or self._face_vetoes(session, ident, face)
                ):
                    continue
                return found, "appearance", score
        return None, "new", None

    def _face_vetoes(self, session: Session, identity_id: int, face: np.ndarray | None) -> bool:
        """A face that clearly differs from the identity's faces forbids an appearance match."""
        if face is None:
            return False
        rows = store.exemplar_vectors(session, "face", [identity_id])
        if not rows:
            return False
        known = np.stack([blob_to_vector(r[3]) for r in rows])
        return float((known @ face).max()) < self.config.face_veto

    @staticmethod
    def _new_identity(
        session: Session, s: Observation, person: tuple[int, float] | None
    ) -> tables.Identity:
        identity = tables.Identity(object_class=s.label)
        if person is not None:
            store.link_person(session, identity, person[0])
        store.add_identity(session, identity)
        return identity

    def _keep_exemplars(
        self,
        change: Change,
        identity_id: int,
        sighting_id: int,
        s: Observation,
        face: np.ndarray | None,
        look: np.ndarray | None,
        fresh: bool,
    ) -> None:
        cfg = self.config
        face_quality = s.face_quality if s.face_quality is not None else s.quality
        candidates: tuple[tuple[ExemplarKind, np.ndarray | None, float, int], ...] = (
            ("face", face, face_quality, cfg.max_face_exemplars),
            ("look", look, s.quality, cfg.max_appearance_exemplars),
        )
        for kind, vec, quality, cap in candidates:
            if vec is None:
                continue
            new_id, evicted = store.keep_exemplar(
                change.session, kind, identity_id=identity_id, camera_id=s.camera_id,
                sighting_id=sighting_id, vector=vec, quality=quality, cap=cap, fresh=fresh,
            )
            change.galleries.remove(kind, evicted)
            if new_id is not None:
                change.galleries.add(kind, new_id, identity_id, vec)


def _vehicle_attrs(identity: tables.Identity, s: Observation) -> None:
    """Type from the class; colour from the Embedder or, failing that, from the crop."""
    identity.vehicle_type = s.label
    if identity.color is not None:
        return
    if s.color is not None:
        identity.color, identity.color_hex = s.color, s.color_hex
    elif s.crop_jpeg:
        crop = cv2.imdecode(np.frombuffer(s.crop_jpeg, np.uint8), cv2.IMREAD_COLOR)
        if crop is not None:
            identity.color, identity.color_hex = vehicle_color(crop)
