"""Split: peel sightings off an identity into a new one, chosen or found by re-clustering.

Runs inside one `Change` (`IdentityCore.run`), like merge.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from sqlmodel import Session

from iris.db.tables import Identity
from iris.db.types import blob_to_vector
from iris.identity import moves, store
from iris.identity.change import Change
from iris.identity.cluster import centroids, split_two
from iris.identity.types import ExemplarKind, IdentityConfig, IdentityNotFound, OpResult


def split_identity(
    change: Change,
    identity_id: int,
    sighting_ids: Sequence[int] | None,
    auto: bool,
    new_name: str | None,
) -> OpResult:
    """Move the given sightings, or the smaller of two clusters (``auto``), to a new identity.

    ``auto`` clusters the identity's sightings into two by face (appearance when fewer than
    two sightings carry a face). A result with ``ok=False`` means auto found one subject and
    changed nothing.

    Raises:
        IdentityNotFound: no such identity.
        ValueError: no given sighting belongs to the identity; every sighting given (nothing
            would remain); fewer than two sightings to auto-split.
    """
    session, cfg = change.session, change.config
    source = store.get_identity(session, identity_id)
    if source is None:
        raise IdentityNotFound(identity_id)
    owned = store.sighting_ids(session, identity_id)
    if sighting_ids:
        wanted = set(map(int, sighting_ids))
        chosen = [i for i in owned if i in wanted]
        if not chosen:
            raise ValueError(f"none of the given sightings belong to identity {identity_id}")
    else:
        if len(owned) < 2:
            raise ValueError(f"identity {identity_id} has fewer than 2 sightings to split")
        picked, detail = auto_partition(session, cfg, identity_id, owned)
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
    new_id = store.add_identity(session, new)
    moved, faces, looks = moves.move_sightings(
        session, change.files, src_ids=[identity_id], dst_id=new_id, sighting_ids=chosen
    )
    change.galleries.hand_over("face", faces, new_id)
    change.galleries.hand_over("look", looks, new_id)
    for ident in (source, new):
        moves.recompute_identity(session, ident, cfg.presence_gap_s)
    how = "auto-split" if auto and not sighting_ids else "split"
    detail = f"{how} {moved} sightings of identity {identity_id} into {new_id}"
    return OpResult(True, new_id, [identity_id, new_id], moved, detail)


def auto_partition(
    session: Session, cfg: IdentityConfig, identity_id: int, owned: list[int]
) -> tuple[list[int] | None, str]:
    """Sightings of the smaller of two clusters, by face first, appearance otherwise.

    Returns:
        ``(sighting ids to move, "")``, or ``(None, why not)`` when there is one subject or
        too little to cluster.
    """
    faces = per_sighting(session, cfg, identity_id, "face")
    looks = per_sighting(session, cfg, identity_id, "look")
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
    return [k for k in owned if side.get(k) == smaller], ""


def per_sighting(
    session: Session, cfg: IdentityConfig, identity_id: int, kind: ExemplarKind
) -> dict[int, np.ndarray]:
    """Mean (normalised) vector per sighting from exemplars and face samples."""
    acc: dict[int, list[np.ndarray]] = {}
    for _, _, sid, blob in store.exemplar_vectors(session, kind, [identity_id]):
        if sid is not None:
            acc.setdefault(sid, []).append(blob_to_vector(blob))
    dim = cfg.face_dim if kind == "face" else cfg.appearance_dim
    for sid, sample in store.face_sample_vectors(session, identity_id, kind):
        if sid is not None and sample and len(sample) == 4 * dim:
            acc.setdefault(sid, []).append(blob_to_vector(sample))
    return {sid: centroids([np.stack(v)])[0] for sid, v in acc.items()}
