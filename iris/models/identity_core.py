"""IdentityManager logic: sightings -> identities across cameras, and operator corrections.

`IdentityCore` holds three galleries over database rows: enrolled people's faces
(`FaceEmbedding`), identity face exemplars and identity appearance exemplars. `assign` files a
sighting under an identity, trying in order: the track's own recent sighting, an enrolled
person (face), an identity's face exemplars, an identity's appearance exemplars (same class,
seen recently, not on the same camera at the same time, no contradicting face), else a new
provisional identity. Corrections (merge, split, delete) and maintenance live in
`iris.models.identity_ops`. The DB stays the source of truth: galleries change only after a
commit, and `rebuild_from_db` reloads them whenever something else wrote to the tables.

No Ray here: the `IdentityManager` actor shell calls these methods, one at a time or from
threads (a lock serialises them).
"""

from __future__ import annotations

import logging
from collections import OrderedDict
from pathlib import Path

import numpy as np
from sqlalchemy import select
from sqlalchemy.engine import Engine
from sqlmodel import Session, col

from iris.db.engine import session_scope
from iris.db.tables import (
    AppearanceExemplar,
    FaceExemplar,
    Identity,
    Sighting,
)
from iris.db.types import blob_to_vector
from iris.models import identity_store as store
from iris.models.identity_files import FileJournal
from iris.models.identity_galleries import IdentityGalleries
from iris.models.identity_ops import IdentityOpsMixin
from iris.models.identity_presence import extend_presence
from iris.models.identity_time import to_dt, to_epoch
from iris.models.identity_types import (
    VEHICLE_CLASSES,
    Assignment,
    IdentityConfig,
    SightingInput,
)

log = logging.getLogger(__name__)
TRACK_CACHE = 50_000
"""Recent ``(camera, track) -> sighting`` entries kept in memory."""


class IdentityCore(IdentityGalleries, IdentityOpsMixin):
    """Cross-camera identities over a SQLModel database and a data root.

    Attributes:
        engine: the database.
        root: the data root (crops go under ``identities/<id>/``).
        config: thresholds and limits.
    """

    def __init__(
        self, engine: Engine, root: Path | str, config: IdentityConfig | None = None
    ) -> None:
        """Create the galleries and load them from the database."""
        self._tracks: OrderedDict[tuple[int, int], int] = OrderedDict()  # -> Sighting.id
        self._warm_since: dict[int, float] = {}  # camera -> ts of its first sighting since start
        super().__init__(engine, root, config)

    # ------------------------------------------------------------------------- assign
    def assign(self, sighting: SightingInput) -> Assignment:
        """File one sighting under an identity, persisting rows, crops and galleries.

        Raises:
            sqlalchemy.exc.SQLAlchemyError: the database refused the write (nothing changed).
        """
        cfg = self.config
        face = self._vector(sighting.face_embedding, cfg.face_dim, "face")
        look = self._vector(sighting.appearance, cfg.appearance_dim, "appearance")
        with self._lock:
            journal = FileJournal(self.root)
            gallery_ops: list[tuple[str, int, int, np.ndarray | None]] = []
            try:
                with session_scope(self.engine) as session:
                    result = self._assign(session, journal, gallery_ops, sighting, face, look)
            except BaseException:
                journal.rollback()
                raise
            self._apply(gallery_ops)
            self._remember_track(sighting, result.sighting_id)
            return result

    def _track_sighting(self, session: Session, s: SightingInput) -> Sighting | None:
        """The sighting this camera track is extending, if it was seen within the track gap.

        A cache keyed by ``(camera, track)`` answers without a query; only while a camera is
        "cold" (within the gap of its first sighting since start) can a track predate the
        cache, so only then is the database asked.
        """
        gap = self.config.track_gap_s
        cached = self._tracks.get((s.camera_id, s.track_id))
        if cached is not None:
            row = session.get(Sighting, cached)
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

    def _remember_track(self, s: SightingInput, sighting_id: int) -> None:
        key = (s.camera_id, s.track_id)
        self._tracks[key] = sighting_id
        self._tracks.move_to_end(key)
        while len(self._tracks) > TRACK_CACHE:
            self._tracks.popitem(last=False)

    def _assign(
        self,
        session: Session,
        journal: FileJournal,
        ops: list[tuple[str, int, int, np.ndarray | None]],
        s: SightingInput,
        face: np.ndarray | None,
        look: np.ndarray | None,
    ) -> Assignment:
        cfg = self.config
        person = self._best(self._people, self._person_of, face, cfg.person_threshold) if (
            face is not None
        ) else None
        row = self._track_sighting(session, s)
        created = False
        if row is not None:
            identity = session.get(Identity, row.identity_id)
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
            row = Sighting(
                identity_id=identity.id,
                camera_id=s.camera_id,
                track_id=s.track_id,
                label=s.label,
                match_kind=kind,
                score=score,
                ts=to_dt(s.ts),
            )
            identity.num_sightings += 1
        assert identity.id is not None
        updated = row.id is not None
        prior_quality = None if row.id is None else store.best_exemplar_quality(
            session, identity.id, row.id)
        row.end_ts = to_dt(max(s.last_ts, to_epoch(row.end_ts or row.ts)))
        if s.box is not None:
            row.box = ",".join(f"{v:.1f}" for v in s.box)
        session.add(row)
        session.flush()
        assert row.id is not None
        store.link_event(session, row, identity, s.event_id)
        better = prior_quality is None or s.quality > prior_quality
        if s.crop_jpeg and (row.thumb_path is None or better):
            rel = f"identities/{identity.id}/sighting-{row.id}.jpg"
            row.thumb_path = journal.write(rel, s.crop_jpeg)
            rep = identity.rep_sighting_id
            rep_quality = None if rep is None or rep == row.id else store.best_exemplar_quality(
                session, identity.id, rep)
            if rep is None or rep == row.id or rep_quality is None or s.quality > rep_quality:
                identity.rep_sighting_id = row.id
        self._keep_exemplars(session, ops, identity.id, row, s, face, look, fresh=not updated)
        if face is not None and s.face_jpeg:
            store.keep_face_sample(session, journal, identity.id, row, s, face, look,
                                   fresh=not updated)
        identity.total_seconds += extend_presence(
            session, identity.id, s.camera_id, s.ts, s.last_ts, cfg.presence_gap_s
        )
        first, last = to_dt(s.ts), to_dt(s.last_ts)
        identity.first_seen = min(identity.first_seen or first, first)
        identity.last_seen = max(identity.last_seen or last, last)
        if s.label in VEHICLE_CLASSES:
            store.vehicle_attrs(identity, s)
        session.add(identity)
        return Assignment(
            identity_id=identity.id,
            sighting_id=row.id,
            match_kind=kind,
            score=score,
            person_id=identity.person_id,
            created=created,
            updated_track=updated,
        )

    def _resolve(
        self,
        session: Session,
        s: SightingInput,
        face: np.ndarray | None,
        look: np.ndarray | None,
        person: tuple[int, float] | None,
    ) -> tuple[Identity | None, str, float | None]:
        cfg = self.config
        if person is not None:
            linked = session.execute(
                select(Identity)
                .where(col(Identity.person_id) == person[0])
                .order_by(col(Identity.last_seen).desc())
                .limit(1)
            ).scalar_one_or_none()
            return linked, "person", person[1]
        if face is not None:
            for ident, score in self._ranked(self._faces, self._face_owner, face,
                                             cfg.face_threshold, 16):
                found = session.get(Identity, ident)
                if found is not None and found.object_class == s.label:
                    return found, "face", score
        if look is not None:
            since = to_dt(s.ts - cfg.appearance_window_s)
            until = to_dt(s.last_ts + cfg.appearance_window_s)
            for ident, score in self._ranked(self._looks, self._look_owner, look,
                                             cfg.appearance_threshold, 32):
                found = session.get(Identity, ident)
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
        rows = store.exemplar_vectors(session, FaceExemplar, [identity_id])
        if not rows:
            return False
        known = np.stack([blob_to_vector(r[3]) for r in rows])
        return float((known @ face).max()) < self.config.face_veto

    def _new_identity(
        self, session: Session, s: SightingInput, person: tuple[int, float] | None
    ) -> Identity:
        identity = Identity(object_class=s.label)
        if person is not None:
            store.link_person(session, identity, person[0])
        session.add(identity)
        session.flush()
        return identity

    def _keep_exemplars(
        self,
        session: Session,
        ops: list[tuple[str, int, int, np.ndarray | None]],
        identity_id: int,
        row: Sighting,
        s: SightingInput,
        face: np.ndarray | None,
        look: np.ndarray | None,
        fresh: bool,
    ) -> None:
        assert row.id is not None
        for kind, table, vec, quality, cap in (
            ("face", FaceExemplar, face, s.face_quality if s.face_quality is not None
             else s.quality, self.config.max_face_exemplars),
            ("look", AppearanceExemplar, look, s.quality, self.config.max_appearance_exemplars),
        ):
            if vec is None:
                continue
            new_id, evicted = store.keep_exemplar(
                session, table, identity_id=identity_id, camera_id=s.camera_id,
                sighting_id=row.id, vector=vec, quality=quality, cap=cap, fresh=fresh,
            )
            ops += [(kind, gone, identity_id, None) for gone in evicted]
            if new_id is not None:
                ops.append((kind, new_id, identity_id, vec))
