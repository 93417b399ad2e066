"""Merge: fold identities into one, with everything hanging off them.

Runs inside one `Change` (`IdentityCore.run`): rows in one transaction, crops moved with it
(undone if it fails), galleries updated after the commit.
"""

from __future__ import annotations

from collections.abc import Sequence

from iris.identity import moves, store
from iris.identity.change import Change
from iris.identity.files import identity_dir
from iris.identity.types import IdentityNotFound, OpResult

VEHICLE_ATTRS = ("color", "color_hex", "make", "vehicle_type")


def merge_sources(target_id: int, source_ids: Sequence[int]) -> list[int]:
    """The distinct sources other than the target, in the order given.

    Raises:
        ValueError: no source besides the target.
    """
    sources = [int(i) for i in dict.fromkeys(source_ids) if int(i) != int(target_id)]
    if not sources:
        raise ValueError("merge needs at least one source identity besides the target")
    return sources


def merge_identities(change: Change, target_id: int, sources: list[int]) -> OpResult:
    """Fold ``sources`` into ``target_id``; sources are deleted afterwards.

    Sightings, exemplars, face samples (crops move to the target's folder), presence and event
    links follow; a named source lends its name to an unnamed target; counters and first/last
    seen are recomputed.

    Raises:
        IdentityNotFound: the target, or every source, does not exist.
    """
    session, cfg = change.session, change.config
    target = store.get_identity(session, target_id)
    if target is None:
        raise IdentityNotFound(target_id)
    rows = store.identities(session, sources)
    found = [i for i in sources if i in rows]
    if not found:
        raise IdentityNotFound(sources[0])
    for source in (rows[i] for i in found):
        if target.name is None and source.name is not None:
            target.name, target.is_named = source.name, True
            target.notes = target.notes or source.notes
        if target.person_id is None and source.person_id is not None:
            target.person_id = source.person_id
        for attr in VEHICLE_ATTRS:
            if getattr(target, attr) is None and getattr(source, attr) is not None:
                setattr(target, attr, getattr(source, attr))
    moved, faces, looks = moves.move_sightings(
        session, change.files, src_ids=found, dst_id=target_id
    )
    change.galleries.hand_over("face", faces, target_id)
    change.galleries.hand_over("look", looks, target_id)
    store.delete_identity_rows(session, found)
    change.files.remove_after_commit += [identity_dir(change.files.root, i) for i in found]
    change.galleries.remove("face", store.prune_exemplars(session, "face", target_id,
                                                          cfg.max_face_exemplars))
    change.galleries.remove("look", store.prune_exemplars(session, "look", target_id,
                                                          cfg.max_appearance_exemplars))
    moves.recompute_identity(session, target, cfg.presence_gap_s)
    missing = [i for i in sources if i not in rows]
    detail = f"merged {len(found)} identities into {target_id} ({moved} sightings moved)"
    if missing:
        detail += f"; not found: {', '.join(map(str, missing))}"
    return OpResult(True, target_id, found, moved, detail)
