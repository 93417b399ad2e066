"""Small clustering helpers for identities: centroids, a 2-way split, linked groups."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import numpy as np


def centroids(groups: Sequence[np.ndarray]) -> np.ndarray:
    """``(len(groups), dim)`` unit-length means of each group of row vectors."""
    means = np.stack([np.asarray(g, np.float32).reshape(len(g), -1).mean(0) for g in groups])
    norms = np.linalg.norm(means, axis=1, keepdims=True)
    return (means / np.maximum(norms, 1e-12)).astype(np.float32)


def split_two(vectors: np.ndarray, iterations: int = 20) -> tuple[np.ndarray | None, float]:
    """Spherical 2-means of unit rows, seeded with the least similar pair.

    Returns:
        ``(labels in {0, 1} or None when no split exists, cosine of the two centroids)``;
        a cosine of 1.0 means the rows are one cluster.
    """
    x = np.asarray(vectors, np.float32)
    x = x / np.maximum(np.linalg.norm(x, axis=1, keepdims=True), 1e-12)
    if len(x) < 2:
        return None, 1.0
    sim = x @ x.T
    a, b = np.unravel_index(int(np.argmin(sim)), sim.shape)
    cents = x[[a, b]]
    labels = np.zeros(len(x), np.int64)
    for step in range(iterations):
        new = np.argmax(x @ cents.T, axis=1)
        if (new == 0).all() or (new == 1).all():
            return None, 1.0
        if step > 0 and (new == labels).all():
            break
        labels = new
        cents = centroids([x[labels == 0], x[labels == 1]])
    return labels, float(cents[0] @ cents[1])


def link_groups(pairs: Iterable[tuple[int, int]]) -> list[set[int]]:
    """Connected components (union-find) of the pairs; singletons never appear."""
    parent: dict[int, int] = {}

    def find(i: int) -> int:
        parent.setdefault(i, i)
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    for a, b in pairs:
        ra, rb = find(a), find(b)
        if ra != rb:
            parent[max(ra, rb)] = min(ra, rb)
    groups: dict[int, set[int]] = {}
    for i in list(parent):
        groups.setdefault(find(i), set()).add(i)
    return [g for g in groups.values() if len(g) > 1]
