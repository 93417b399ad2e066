"""FAISS galleries: every kind finds stored vectors by DB id, forgets removed ones, upserts."""

from __future__ import annotations

import numpy as np
import pytest

from iris.models.gallery import Gallery, normalise

DIM = 32


def unit(rng: np.random.Generator, n: int, dim: int = DIM) -> np.ndarray:
    return normalise(rng.standard_normal((n, dim)), dim)


def near(rng: np.random.Generator, rows: np.ndarray, noise: float = 0.05) -> np.ndarray:
    return normalise(rows + noise * rng.standard_normal(rows.shape), rows.shape[1])


def make(kind: str) -> Gallery:
    # A low IVF threshold so the IVF path (training, lists, hash direct map) really runs.
    return Gallery(DIM, kind, ivf_min_vectors=400, nprobe=8)  # type: ignore[arg-type]


@pytest.mark.parametrize("kind", ["flat", "ivf", "hnsw"])
def test_search_returns_db_ids_of_nearest(kind: str) -> None:
    rng = np.random.default_rng(1)
    vecs = unit(rng, 1000)
    ids = np.arange(5000, 6000, dtype=np.int64)
    gallery = make(kind)
    gallery.add(ids[:500], vecs[:500])
    gallery.add(ids[500:], vecs[500:])  # crossing the IVF threshold trains on the way
    assert len(gallery) == 1000
    assert gallery.active_kind == kind
    scores, found = gallery.search(near(rng, vecs[:50]), k=3)
    assert found.shape == scores.shape == (50, 3)
    assert (found[:, 0] == ids[:50]).mean() >= 0.95
    assert (scores[:, 0] > 0.9).all()
    assert (np.diff(scores, axis=1) <= 1e-6).all(), "scores are best first"


@pytest.mark.parametrize("kind", ["flat", "ivf", "hnsw"])
def test_remove_forgets_ids_and_upsert_replaces(kind: str) -> None:
    rng = np.random.default_rng(2)
    vecs = unit(rng, 600)
    ids = np.arange(600, dtype=np.int64) * 10
    gallery = make(kind)
    gallery.add(ids, vecs)
    assert gallery.remove([0, 10, 999_999]) == 2
    assert len(gallery) == 598 and 0 not in gallery and 20 in gallery
    _, found = gallery.search(vecs[:2], k=5)
    assert 0 not in found and 10 not in found
    gallery.add([20], vecs[100])  # id 20 now holds another vector
    assert len(gallery) == 598
    _, found = gallery.search(vecs[100], k=2)
    assert set(found[0].tolist()) == {20, 1000}
    _, found = gallery.search(vecs[2], k=1)
    assert found[0, 0] != 20
    gallery.remove(ids[100:500])  # many tombstones: HNSW compacts, search stays exact in k
    assert len(gallery) == 198
    scores, found = gallery.search(vecs[550], k=3)
    assert found[0, 0] == 5500 and (found >= 0).all() and np.isfinite(scores).all()
    assert set(gallery.ids().tolist()) == set(gallery.vectors()[0].tolist())


@pytest.mark.parametrize("kind", ["flat", "ivf", "hnsw"])
def test_rebuild_replaces_content(kind: str) -> None:
    rng = np.random.default_rng(3)
    gallery = make(kind)
    gallery.add(np.arange(10), unit(rng, 10))
    fresh = unit(rng, 500)
    gallery.rebuild(np.arange(100, 600), fresh)
    assert len(gallery) == 500 and 0 not in gallery
    _, found = gallery.search(fresh[7], k=1)
    assert found[0, 0] == 107
    gallery.rebuild([], np.empty((0, DIM), np.float32))
    assert len(gallery) == 0


def test_short_gallery_pads_with_minus_one() -> None:
    gallery = Gallery(DIM)
    scores, found = gallery.search(np.ones(DIM), k=2)
    assert found.tolist() == [[-1, -1]] and np.isneginf(scores).all()
    gallery.add([7], np.ones(DIM))
    scores, found = gallery.search(np.ones(DIM), k=3)
    assert found.tolist() == [[7, -1, -1]]
    assert scores[0, 0] == pytest.approx(1.0, abs=1e-5) and np.isneginf(scores[0, 1:]).all()


def test_vectors_are_normalised_for_cosine() -> None:
    gallery = Gallery(2)
    gallery.add([1, 2], np.array([[10.0, 0.0], [0.0, 0.1]]))
    scores, found = gallery.search(np.array([3.0, 3.0]), k=2)
    assert scores[0].tolist() == pytest.approx([2**-0.5, 2**-0.5], abs=1e-5)


@pytest.mark.parametrize(
    ("ids", "vectors", "message"),
    [
        ([1, 2], np.zeros((1, DIM)), "2 ids for 1 vectors"),
        ([1, 1], np.zeros((2, DIM)), "ids repeat"),
        ([1], np.zeros((1, DIM + 1)), f"dimension {DIM}"),
    ],
)
def test_add_rejects_bad_input(ids: list[int], vectors: np.ndarray, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        Gallery(DIM).add(ids, vectors)


def test_unknown_kind_is_refused() -> None:
    with pytest.raises(ValueError, match="kind"):
        Gallery(DIM, "lsh")  # type: ignore[arg-type]


def test_ivf_stays_exact_below_threshold() -> None:
    rng = np.random.default_rng(4)
    gallery = Gallery(DIM, "ivf", ivf_min_vectors=1000)
    gallery.add(np.arange(999), unit(rng, 999))
    assert gallery.active_kind == "flat"
    gallery.add([5000], unit(rng, 1))
    assert gallery.active_kind == "ivf" and len(gallery) == 1000


def test_more_probes_never_lose_recall() -> None:
    rng = np.random.default_rng(5)
    vecs = unit(rng, 4000)
    gallery = Gallery(DIM, "ivf", ivf_min_vectors=1000, nprobe=1)
    gallery.add(np.arange(4000), vecs)
    exact = Gallery(DIM)
    exact.add(np.arange(4000), vecs)
    queries = near(rng, vecs[:300], noise=0.1)
    truth = exact.search(queries, 1)[1][:, 0]
    recall = []
    for nprobe in (1, 8, 128):
        gallery.set_search(nprobe=nprobe)
        recall.append(float((gallery.search(queries, 1)[1][:, 0] == truth).mean()))
    assert recall[0] <= recall[1] <= recall[2] and recall[2] > recall[0]
    assert recall[2] == 1.0, "probing every list is exact"
