"""Face groups: leader clustering of face samples by cosine, clothing blend, group summaries."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import numpy as np
import pytest

from iris.db.tables import FaceSample
from iris.db.types import vector_to_blob
from iris.identity import ClusterParams, FaceGroup, FaceSamples
from iris.identity import cluster_faces as cluster_arrays
from iris.serve.routes.face_groups import face_samples

T0 = datetime(2030, 1, 1, 12, 0, tzinfo=UTC)
RNG_SEED = 7


def unit(v: np.ndarray) -> np.ndarray:
    return (v / np.linalg.norm(v)).astype(np.float32)


def mixed(a: np.ndarray, b: np.ndarray, cos: float) -> np.ndarray:
    """A unit vector at cosine `cos` from unit `a`, in the plane of `a` and `b`."""
    ortho = unit(b - (b @ a) * a)
    return unit(cos * a + np.sqrt(1 - cos**2) * ortho)


def identities(n: int, dim: int = 512) -> np.ndarray:
    """`n` mutually orthogonal unit vectors."""
    q, _ = np.linalg.qr(np.random.default_rng(RNG_SEED).standard_normal((dim, n)))
    return q.T.astype(np.float32)


def noisy(base: np.ndarray, cos: float, rng: np.random.Generator) -> np.ndarray:
    return mixed(base, rng.standard_normal(base.shape[0]).astype(np.float32), cos)


@dataclass(frozen=True, eq=False)
class Capture:
    """One captured face as a test writes it; `pack` makes the arrays clustering takes."""

    id: int
    camera_id: int
    ts: datetime
    quality: float
    label: str | None
    face: np.ndarray
    clothing: np.ndarray | None = None


def sample(sid: int, face: np.ndarray, *, quality: float = 0.5, camera: int = 1,
           minutes: float = 0, label: str | None = None,
           clothing: np.ndarray | None = None) -> Capture:
    return Capture(id=sid, camera_id=camera, ts=T0 + timedelta(minutes=minutes),
                   quality=quality, label=label, face=face, clothing=clothing)


def pack(captures: list[Capture]) -> FaceSamples:
    return FaceSamples.from_vectors(
        ids=[c.id for c in captures], camera_ids=[c.camera_id for c in captures],
        ts=[c.ts for c in captures], quality=[c.quality for c in captures],
        labels=[c.label for c in captures], faces=[c.face for c in captures],
        clothing=[c.clothing for c in captures])


def cluster_faces(captures: list[Capture], params: ClusterParams) -> list[FaceGroup]:
    return cluster_arrays(pack(captures), params)


def partition(groups: list) -> set[frozenset[int]]:
    return {frozenset(g.member_ids) for g in groups}


@pytest.fixture
def three_people() -> list[Capture]:
    """Ids 1xx, 2xx, 3xx: three people, 6/4/2 captures each at cosine ~0.75 to their face."""
    rng = np.random.default_rng(RNG_SEED)
    bases = identities(3)
    out = []
    for person, count in enumerate((6, 4, 2), start=1):
        for k in range(count):
            out.append(sample(person * 100 + k, noisy(bases[person - 1], 0.75, rng),
                              quality=float(rng.uniform(0.2, 0.9)), camera=person + k % 2,
                              minutes=10 * person + k))
    return out


def test_same_faces_group_and_different_faces_separate(three_people: list[Capture]) -> None:
    groups = cluster_faces(three_people, ClusterParams())
    assert partition(groups) == {frozenset(range(100, 106)), frozenset(range(200, 204)),
                                 frozenset(range(300, 302))}
    assert [g.size for g in groups] == [6, 4, 2]  # largest first


def test_group_id_is_the_best_face_and_members_are_best_first(
    three_people: list[Capture],
) -> None:
    by_id = {s.id: s for s in three_people}
    for group in cluster_faces(three_people, ClusterParams()):
        qualities = [by_id[i].quality for i in group.member_ids]
        assert qualities == sorted(qualities, reverse=True)
        assert group.group_id == group.member_ids[0]


def test_result_does_not_depend_on_row_order(three_people: list[Capture]) -> None:
    reference = cluster_faces(three_people, ClusterParams())
    for seed in range(5):
        shuffled = list(three_people)
        np.random.default_rng(seed).shuffle(shuffled)  # type: ignore[arg-type]
        assert cluster_faces(shuffled, ClusterParams()) == reference


@pytest.mark.parametrize(("threshold", "sizes"), [(0.3, [6, 4, 2]), (0.45, [6, 4, 2]),
                                                   (0.95, [1] * 12)])
def test_threshold_sets_how_alike_faces_must_be(
    three_people: list[Capture], threshold: float, sizes: list[int]
) -> None:
    groups = cluster_faces(three_people, ClusterParams(face_threshold=threshold))
    assert [g.size for g in groups] == sizes


def test_one_ambiguous_face_does_not_chain_two_people() -> None:
    a, c = identities(2)
    b = unit(a + c)  # cosine 0.71 to both a and c, which are orthogonal
    samples = [sample(1, a, quality=0.9), sample(2, c, quality=0.8), sample(3, b, quality=0.1)]
    groups = cluster_faces(samples, ClusterParams(face_threshold=0.6))
    # Single linkage would make one group of all three; the ambiguous face joins one person.
    assert len(groups) == 2
    assert partition(groups) == {frozenset({1, 3}), frozenset({2})}


def test_clothing_blend_links_faces_below_the_face_threshold() -> None:
    face_a, face_b, shirt, other_shirt = identities(4)
    near_b = mixed(face_a, face_b, 0.4)  # faces alone: below a 0.5 threshold
    samples = [sample(1, face_a, quality=0.9, clothing=shirt),
               sample(2, near_b, quality=0.8, clothing=shirt),
               sample(3, near_b, quality=0.7, clothing=other_shirt)]
    faces_only = cluster_faces(samples, ClusterParams(clothing_weight=0.0))
    assert {1, 2} not in [set(g.member_ids) for g in faces_only]
    # 0.5 * 0.4 + 0.5 * 1.0 = 0.7 for the same shirt; 0.5 * 0.4 + 0 for another shirt.
    blended = cluster_faces(samples, ClusterParams(clothing_weight=0.5))
    assert frozenset({1, 2}) in partition(blended)
    assert all(3 not in g.member_ids or g.size == 1 for g in blended)


def test_samples_without_clothing_compare_by_face_alone() -> None:
    face, shirt, other = identities(3)
    samples = [sample(1, face, quality=0.9, clothing=shirt),
               sample(2, mixed(face, other, 0.6), quality=0.5, clothing=None)]
    # With clothing counted at full weight the pair would score 0; without clothing it is 0.6.
    groups = cluster_faces(samples, ClusterParams(clothing_weight=1.0))
    assert partition(groups) == {frozenset({1, 2})}


def test_min_size_hides_small_groups(three_people: list[Capture]) -> None:
    groups = cluster_faces(three_people, ClusterParams(min_size=4))
    assert [g.size for g in groups] == [6, 4]


def test_group_summary_label_cameras_and_times() -> None:
    face = identities(1)[0]
    samples = [
        sample(1, face, quality=0.9, camera=3, minutes=5, label="bob"),
        sample(2, face, quality=0.8, camera=1, minutes=-30, label="alice"),
        sample(3, face, quality=0.7, camera=3, minutes=60, label="alice"),
        sample(4, face, quality=0.6, camera=2, minutes=1, label=None),
        sample(5, face, quality=0.5, camera=1, minutes=2, label="bob"),
    ]
    (group,) = cluster_faces(samples, ClusterParams())
    assert group.label == "bob"  # 2 vs 2: the tie goes to the label of the better face
    assert group.cameras == (1, 2, 3)
    assert group.first_seen == T0 - timedelta(minutes=30)
    assert group.last_seen == T0 + timedelta(minutes=60)
    unlabelled = cluster_faces([sample(9, face)], ClusterParams())
    assert unlabelled[0].label is None


def test_equal_sizes_list_the_most_recent_first() -> None:
    a, b = identities(2)
    groups = cluster_faces([sample(1, a, minutes=0), sample(2, b, minutes=9)], ClusterParams())
    assert [g.group_id for g in groups] == [2, 1]


def test_no_samples_no_groups() -> None:
    assert cluster_faces([], ClusterParams()) == []


def test_rows_become_unit_vectors_and_unusable_rows_are_skipped() -> None:
    face = identities(1)[0] * 3.0
    look = np.ones(64, np.float32)

    def row(sid: int, embedding: bytes, clothing: bytes | None = None) -> FaceSample:
        return FaceSample(id=sid, camera_id=1, ts=T0, embedding=embedding, clothing=clothing,
                          quality=0.5)

    rows = [row(1, vector_to_blob(face), vector_to_blob(look)), row(2, b""),
            row(3, vector_to_blob(np.ones(128))), row(4, vector_to_blob(np.zeros(512))),
            row(5, vector_to_blob(face), b"\0" * 64 * 4), row(6, b"\1\2\3")]
    samples = face_samples(rows)
    assert samples.ids.tolist() == [1, 5]
    assert float(np.linalg.norm(samples.faces[0])) == pytest.approx(1.0, abs=1e-6)
    assert samples.has_clothing[0]
    assert float(np.linalg.norm(samples.clothing[0])) == pytest.approx(1.0, abs=1e-6)
    assert not samples.has_clothing[1]  # an all-zero clothing vector says nothing


@pytest.mark.parametrize("bad", [{"face_threshold": 1.5}, {"clothing_weight": -0.1},
                                 {"min_size": 0}, {"max_members": -1}, {"max_samples": 0},
                                 {"max_samples": 2001}])
def test_params_out_of_range_are_refused(bad: dict[str, float]) -> None:
    with pytest.raises(ValueError, match=next(iter(bad))):
        ClusterParams(**bad)  # type: ignore[arg-type]
