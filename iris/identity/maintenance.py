"""Maintenance: which unnamed identities have converged and should be merged.

Reads the galleries only; `IdentityCore.maintenance` merges the groups found here.
"""

from __future__ import annotations

import numpy as np

from iris.identity.cluster import centroids, link_groups
from iris.identity.galleries import IdentityGalleries, OwnedGallery
from iris.identity.types import IdentityConfig
from iris.models.gallery import Gallery


def groups_to_merge(
    galleries: IdentityGalleries, free: dict[int, str], cfg: IdentityConfig
) -> list[set[int]]:
    """Groups of ``free`` identities (id -> object class) whose centroids agree.

    Faces decide; appearance joins in only when ``merge_appearance_threshold`` is set, and
    only for identities without faces. Only identities of the same class are paired.
    """
    pairs = converging(galleries.faces, free, cfg.merge_face_threshold)
    if cfg.merge_appearance_threshold is not None:
        with_faces = galleries.faces.owners()
        no_face = {i: c for i, c in free.items() if i not in with_faces}
        pairs += converging(galleries.looks, no_face, cfg.merge_appearance_threshold)
    return link_groups(pairs)


def converging(
    gallery: OwnedGallery, free: dict[int, str], threshold: float
) -> list[tuple[int, int]]:
    """Pairs ``(a, b)``, ``a < b``, of same-class identities whose centroids are this alike."""
    by_identity = gallery.vectors_by_owner(free)
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
