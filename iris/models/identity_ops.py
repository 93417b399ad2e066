"""Operator corrections and upkeep of identities: merge, split, delete, maintenance.

Mixed into `iris.models.identity_core.IdentityCore`; every operation runs in one transaction,
moves crops on disk with it (undone if it fails) and touches the galleries only after commit.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path

import numpy as np
from sqlalchemy import delete, select
from sqlalchemy.engine import Engine
from sqlmodel import Session, col

from iris.db.engine import session_scope
from iris.db.purge import delete_identities
from iris.db.tables import AppearanceExemplar, FaceExemplar, FaceSample, Identity, Sighting
from iris.db.types import blob_to_vector
from iris.models import identity_store as store
from iris.models.gallery import Gallery
from iris.models.identity_cluster import centroids, link_groups, split_two
from iris.models.identity_files import FileJournal, identity_dir
from iris.models.identity_types import IdentityConfig, IdentityNotFound, OpResult

log = logging.getLogger(__name__)
GalleryOp = tuple[str, int, int, "np.ndarray | None"]


class IdentityOpsMixin:
    """Merge / split / delete / maintenance over the state `IdentityCore` owns."""

    engine: Engine
    root: Path
    config: IdentityConfig
    _lock: threading.RLock
    _faces: Gallery
    _looks: Gallery
    _face_owner: dict[int, int]
    _look_owner: dict[int, int]

    def _apply(self, ops: Iterable[GalleryOp]) -> None:  # implemented by IdentityCore
        raise NotImplementedError

    def _run(self, work: Callable[[Session, FileJournal, list[GalleryOp]], OpResult]
             ) -> OpResult:
        """Run ``work(session, journal, ops)`` in one transaction; galleries after commit."""
        journal = FileJournal(self.root)
        ops: list[GalleryOp] = []
        try:
            with session_scope(self.engine) as session:
                result = work(session, journal, ops)
        except BaseException:
            journal.rollback()
            raise
        journal.commit()
        self._apply(ops)
        return result

    # ------------------------------------------------------------------------- merge
    def merge(self, target_id: int, source_ids: Sequence[int]) -> OpResult:
        """Fold ``source_ids`` into ``target_id``; sources are deleted afterwards.

        Sightings, exemplars, face samples (crops move to the target's folder), presence and
        event links follow; a named source lends its name to an unnamed target; counters and
        first/last seen are recomputed.

        Raises:
            IdentityNotFound: the target, or every source, does not exist.
            ValueError: no source besides the target.
        """
        sources = [int(i) for i in dict.fromkeys(source_ids) if int(i) != int(target_id)]
        if not sources:
            raise ValueError("merge needs at least one source identity besides the target")
        with self._lock:
            return self._run(lambda s, j, o: self._merge(s, j, o, int(target_id), sources))

    def _merge(
        self,
        session: Session,
        journal: FileJournal,
        ops: list[GalleryOp],
        target_id: int,
        sources: list[int],
    ) -> OpResult:
        target = session.get(Identity, target_id)
        if target is None:
            raise IdentityNotFound(target_id)
        rows = {
            r.id: r
            for r in session.execute(
                select(Identity).where(col(Identity.id).in_(sources))
            ).scalars()
        }
        found = [i for i in sources if i in rows]
        if not found:
            raise IdentityNotFound(sources[0])
        for source in (rows[i] for i in found):
            if target.name is None and source.name is not None:
                target.name, target.is_named = source.name, True
                target.notes = target.notes or source.notes
            if target.person_id is None and source.person_id is not None:
                target.person_id = source.person_id
            for attr in ("color", "color_hex", "make", "vehicle_type"):
                if getattr(target, attr) is None and getattr(source, attr) is not None:
                    setattr(target, attr, getattr(source, attr))
        moved, faces, looks = store.move_sightings(
            session, journal, src_ids=found, dst_id=target_id
        )
        self._move_owners(ops, faces, looks, target_id)
        session.execute(delete(Identity).where(col(Identity.id).in_(found)))
        journal.remove_after_commit += [identity_dir(self.root, i) for i in found]
        self._prune(session, ops, target_id)
        store.recompute_identity(session, target, self.config.presence_gap_s)
        missing = [i for i in sources if i not in rows]
        detail = f"merged {len(found)} identities into {target_id} ({moved} sightings moved)"
        if missing:
            detail += f"; not found: {', '.join(map(str, missing))}"
        return OpResult(True, target_id, found, moved, detail)

    @staticmethod
    def _move_owners(ops: list[GalleryOp], faces: list[int], looks: list[int], owner: int) -> None:
        # Exemplar ids are DB ids and stay; only their owner changes, no vector is re-added.
        for kind, ids in (("own-face", faces), ("own-look", looks)):
            ops += [(kind, i, owner, None) for i in ids]

    def _prune(self, session: Session, ops: list[GalleryOp], identity_id: int) -> None:
        cfg = self.config
        for kind, table, cap in (
            ("face", FaceExemplar, cfg.max_face_exemplars),
            ("look", AppearanceExemplar, cfg.max_appearance_exemplars),
        ):
            ops += [
                (kind, i, identity_id, None)
                for i in store.prune_exemplars(session, table, identity_id, cap)
            ]

    # ------------------------------------------------------------------------- split
    def split(
        self,
        identity_id: int,
        sighting_ids: Sequence[int] | None = None,
        auto: bool = False,
        new_name: str | None = None,
    ) -> OpResult:
        """Peel sightings off into a new identity: the given ones, or a 2-way re-clustering.

        ``auto`` clusters the identity's sightings into two by face (appearance when fewer
        than two sightings carry a face) and moves the smaller cluster. A result with
        ``ok=False`` means auto found one subject and changed nothing.

        Raises:
            IdentityNotFound: no such identity.
            ValueError: neither sightings nor ``auto``; no given sighting belongs to the
                identity; every sighting given (nothing would remain).
        """
        if not sighting_ids and not auto:
            raise ValueError("split needs sighting_ids or auto=true")
        with self._lock:
            return self._run(
                lambda s, j, o: self._split(s, j, o, int(identity_id), sighting_ids, auto,
                                            new_name)
            )

    def _split(
        self,
        session: Session,
        journal: FileJournal,
        ops: list[GalleryOp],
        identity_id: int,
        sighting_ids: Sequence[int] | None,
        auto: bool,
        new_name: str | None,
    ) -> OpResult:
        source = session.get(Identity, identity_id)
        if source is None:
            raise IdentityNotFound(identity_id)
        owned = list(
            session.execute(
                select(col(Sighting.id)).where(col(Sighting.identity_id) == identity_id)
            ).scalars()
        )
        if sighting_ids:
            wanted = set(map(int, sighting_ids))
            chosen = [i for i in owned if i in wanted]
            if not chosen:
                raise ValueError(f"none of the given sightings belong to identity {identity_id}")
        else:
            if len(owned) < 2:
                raise ValueError(f"identity {identity_id} has fewer than 2 sightings to split")
            picked, detail = self._auto_partition(session, identity_id, owned)
            if picked is None:
                return OpResult(False, identity_id, [], 0, detail)
            chosen = picked
        if len(chosen) >= len(owned):
            raise ValueError(f"splitting off every sighting would leave identity {identity_id} "
                             "empty; rename it instead")
        new = Identity(
            object_class=source.object_class,
            name=new_name,
            is_named=new_name is not None,
            color=source.color,
            color_hex=source.color_hex,
            make=source.make,
            vehicle_type=source.vehicle_type,
        )
        session.add(new)
        session.flush()
        assert new.id is not None
        moved, faces, looks = store.move_sightings(
            session, journal, src_ids=[identity_id], dst_id=new.id, sighting_ids=chosen
        )
        self._move_owners(ops, faces, looks, new.id)
        for ident in (source, new):
            store.recompute_identity(session, ident, self.config.presence_gap_s)
        how = "auto-split" if auto and not sighting_ids else "split"
        detail = f"{how} {moved} sightings of identity {identity_id} into {new.id}"
        return OpResult(True, new.id, [identity_id, new.id], moved, detail)

    def _auto_partition(
        self, session: Session, identity_id: int, owned: list[int]
    ) -> tuple[list[int] | None, str]:
        """Sightings of the smaller of two clusters, by face first, appearance otherwise."""
        faces = self._per_sighting(session, identity_id, "face")
        looks = self._per_sighting(session, identity_id, "look")
        cfg = self.config
        if len(faces) >= 2:
            primary, threshold, what = faces, cfg.merge_face_threshold, "faces"
        elif len(looks) >= 2:
            primary, threshold, what = looks, cfg.appearance_threshold, "appearance"
        else:
            return None, f"identity {identity_id} has too few face or appearance vectors to split"
        keys = list(primary)
        labels, similarity = split_two(np.stack([primary[k] for k in keys]))
        if labels is None or similarity >= threshold:
            return None, (f"identity {identity_id} looks like one subject by {what} "
                          f"(cluster similarity {similarity:.2f})")
        side = {k: int(lab) for k, lab in zip(keys, labels.tolist(), strict=True)}
        if primary is faces:  # sightings without a face follow the nearer appearance cluster
            groups = {g: [looks[k] for k in keys if side[k] == g and k in looks] for g in (0, 1)}
            if groups[0] and groups[1]:
                cents = centroids([np.stack(groups[0]), np.stack(groups[1])])
                for k, vec in looks.items():
                    side.setdefault(k, int(np.argmax(cents @ vec)))
        smaller = int(sum(side.values()) * 2 <= len(side))  # label 1 unless it is the larger
        chosen = [k for k in owned if side.get(k) == smaller]
        return chosen, ""

    def _per_sighting(
        self, session: Session, identity_id: int, kind: str
    ) -> dict[int, np.ndarray]:
        """Mean (normalised) vector per sighting from exemplars and face samples."""
        table = FaceExemplar if kind == "face" else AppearanceExemplar
        acc: dict[int, list[np.ndarray]] = {}
        for _, _, sid, blob in store.exemplar_vectors(session, table, [identity_id]):
            if sid is not None:
                acc.setdefault(sid, []).append(blob_to_vector(blob))
        column = col(FaceSample.embedding) if kind == "face" else col(FaceSample.clothing)
        dim = self.config.face_dim if kind == "face" else self.config.appearance_dim
        for sid, blob in session.execute(
            select(col(FaceSample.sighting_id), column)
            .where(col(FaceSample.identity_id) == identity_id)
        ).all():
            if sid is not None and blob and len(blob) == 4 * dim:
                acc.setdefault(sid, []).append(blob_to_vector(blob))
        return {sid: centroids([np.stack(v)])[0] for sid, v in acc.items()}

    # ------------------------------------------------------------------------- delete
    def delete(self, identity_ids: Sequence[int]) -> OpResult:
        """Recursive delete (rows, crops, solo events; shared events only unlinked)."""
        ids = [int(i) for i in dict.fromkeys(identity_ids)]
        with self._lock:
            return self._run(lambda s, j, o: self._delete(s, o, ids))

    def _delete(self, session: Session, ops: list[GalleryOp], ids: list[int]) -> OpResult:
        present = list(
            session.execute(select(col(Identity.id)).where(col(Identity.id).in_(ids))).scalars()
        )
        for kind, table in (("face", FaceExemplar), ("look", AppearanceExemplar)):
            gone = session.execute(select(col(table.id)).where(col(table.identity_id).in_(present)))
            ops += [(kind, i, -1, None) for i in gone.scalars()]
        delete_identities(session, self.root, present)
        missing = [i for i in ids if i not in set(present)]
        detail = f"deleted {len(present)} identities"
        if missing:
            detail += f"; not found: {', '.join(map(str, missing))}"
        return OpResult(bool(present), None, present, 0, detail)

    # ------------------------------------------------------------------------- maintenance
    def maintenance(self) -> list[OpResult]:
        """Merge unnamed identities whose face (and, if enabled, appearance) centroids agree.

        Named identities and those linked to an enrolled person are never touched. Each group
        folds into its oldest identity. Returns one result per merge.
        """
        cfg = self.config
        results: list[OpResult] = []
        with self._lock:
            with Session(self.engine) as session:
                free = {
                    i: c
                    for i, c in session.execute(
                        select(col(Identity.id), col(Identity.object_class)).where(
                            col(Identity.is_named).is_(False), col(Identity.person_id).is_(None)
                        )
                    ).all()
                }
            pairs = self._converging(self._faces, self._face_owner, free, cfg.merge_face_threshold)
            if cfg.merge_appearance_threshold is not None:
                with_faces = set(self._face_owner.values())
                no_face = {i: c for i, c in free.items() if i not in with_faces}
                pairs += self._converging(self._looks, self._look_owner, no_face,
                                          cfg.merge_appearance_threshold)
            for group in link_groups(pairs):
                target, *rest = sorted(group)
                results.append(self.merge(target, rest))
                log.info("identity maintenance: %s", results[-1].detail)
        return results

    @staticmethod
    def _converging(
        gallery: Gallery, owner: dict[int, int], free: dict[int, str], threshold: float
    ) -> list[tuple[int, int]]:
        ids, vecs = gallery.vectors()
        keep = [k for k, row in enumerate(ids.tolist()) if owner.get(row) in free]
        if len(keep) < 2:
            return []
        by_identity: dict[int, list[np.ndarray]] = {}
        for k in keep:
            by_identity.setdefault(owner[int(ids[k])], []).append(vecs[k])
        idents = sorted(by_identity)
        if len(idents) < 2:
            return []
        cents = centroids([np.stack(by_identity[i]) for i in idents])
        index = Gallery(cents.shape[1], "flat")
        index.add(np.asarray(idents, np.int64), cents)
        scores, found = index.search(cents, min(8, len(idents)))
        pairs = []
        for a, row_s, row_i in zip(idents, scores, found, strict=True):
            for score, b in zip(row_s.tolist(), row_i.tolist(), strict=True):
                if b > a and score >= threshold and free[a] == free[int(b)]:
                    pairs.append((a, int(b)))
        return pairs
