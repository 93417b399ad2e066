"""Decoding raw YOLO head output (B, 4 + nc, N) into Detections."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pytest

from iris.models.yolo_decode import batched_nms, decode_end2end, decode_yolo, nms

NC = 80


def raw(
    candidates: Sequence[tuple[float, float, float, float, int, float]], n: int = 50
) -> np.ndarray:
    """One image's (4 + nc, n) output; each candidate is (cx, cy, w, h, class, score)."""
    out = np.zeros((4 + NC, n), np.float32)
    out[:4] = 1.0  # padding anchors: tiny boxes with zero scores
    for k, (cx, cy, w, h, cls, score) in enumerate(candidates):
        out[:4, k] = (cx, cy, w, h)
        out[4 + cls, k] = score
    return out


def test_single_box_decodes_to_xyxy_with_class_and_score() -> None:
    (dets,) = decode_yolo(raw([(100, 50, 40, 20, 2, 0.8)])[None])
    np.testing.assert_allclose(dets.xyxy, [[80, 40, 120, 60]])
    assert dets.class_id.tolist() == [2]
    assert dets.confidence.tolist() == pytest.approx([0.8])


def test_best_class_wins_per_anchor() -> None:
    out = raw([(100, 100, 10, 10, 0, 0.4)])
    out[4 + 16, 0] = 0.7  # the same anchor also scores "dog" higher
    (dets,) = decode_yolo(out[None])
    assert dets.class_id.tolist() == [16]


@pytest.mark.parametrize(
    ("conf", "expected"),
    [(0.25, [0.9, 0.3]), (0.3, [0.9]), (0.95, []), (0.0, [0.9, 0.3])],
)
def test_confidence_threshold_is_strict(conf: float, expected: list[float]) -> None:
    out = raw([(50, 50, 10, 10, 0, 0.9), (200, 200, 10, 10, 0, 0.3)])
    (dets,) = decode_yolo(out[None], conf=conf)
    assert dets.confidence.tolist() == pytest.approx(expected)


def test_nms_is_class_aware() -> None:
    out = raw(
        [
            (100, 100, 40, 40, 0, 0.9),
            (102, 100, 40, 40, 0, 0.8),  # same person, duplicate: suppressed
            (101, 100, 40, 40, 2, 0.7),  # same place, but a car: kept
        ]
    )
    (dets,) = decode_yolo(out[None], iou=0.45)
    assert sorted(dets.class_id.tolist()) == [0, 2]
    (agnostic,) = decode_yolo(out[None], iou=0.45, agnostic=True)
    assert agnostic.class_id.tolist() == [0]


def test_results_are_sorted_and_capped_by_max_det() -> None:
    cands = [(20 * k + 10, 10, 8, 8, 0, 0.3 + 0.01 * k) for k in range(30)]
    (dets,) = decode_yolo(raw(cands)[None], max_det=5)
    assert len(dets) == 5
    assert dets.confidence.tolist() == sorted(dets.confidence.tolist(), reverse=True)
    assert dets.confidence[0] == pytest.approx(0.59)


def test_class_filter() -> None:
    out = raw([(50, 50, 10, 10, 0, 0.9), (200, 200, 10, 10, 2, 0.8)])
    (dets,) = decode_yolo(out[None], classes=[2])
    assert dets.class_id.tolist() == [2]


def test_batches_decode_per_image_and_2d_is_one_image() -> None:
    batch = np.stack([raw([(50, 50, 10, 10, 0, 0.9)]), raw([]), raw([(9, 9, 2, 2, 5, 0.5)])])
    results = decode_yolo(batch)
    assert [len(d) for d in results] == [1, 0, 1]
    assert len(decode_yolo(raw([(50, 50, 10, 10, 0, 0.9)]))) == 1


@pytest.mark.parametrize(
    ("output", "kwargs", "message"),
    [
        (np.zeros((1, 2, 84, 10)), {}, "expected YOLO output"),
        (np.zeros((1, 3, 10)), {}, r"\(4 \+ nc, N\)"),
        (np.zeros((1, 84, 10)), {"conf": 1.5}, "must lie in"),
        (np.zeros((1, 84, 10)), {"iou": -0.1}, "must lie in"),
        (np.zeros((1, 84, 10)), {"max_det": 0}, "max_det"),
    ],
)
def test_bad_input_is_rejected(output: np.ndarray, kwargs: dict[str, float], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        decode_yolo(output, **kwargs)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("iou", "kept"),
    [(0.5, [0, 2]), (0.7, [0, 1, 2]), (0.1, [0, 2])],
)
def test_nms_threshold(iou: float, kept: list[int]) -> None:
    boxes = np.array([[0, 0, 10, 10], [2, 0, 12, 10], [20, 20, 30, 30]], np.float32)
    # boxes 0 and 1 overlap with IoU 80/120 = 0.667
    assert sorted(nms(boxes, np.array([0.9, 0.8, 0.7]), iou).tolist()) == kept


def test_nms_keeps_order_of_score_and_handles_empty() -> None:
    boxes = np.array([[0, 0, 10, 10], [50, 50, 60, 60]], np.float32)
    assert nms(boxes, np.array([0.2, 0.9]), 0.5).tolist() == [1, 0]
    assert batched_nms(np.zeros((0, 4)), np.zeros(0), np.zeros(0), 0.5).tolist() == []


def test_matches_ultralytics_postprocessing() -> None:
    torch = pytest.importorskip("torch")
    from iris.models.torchvision_shim import install_torchvision_nms

    install_torchvision_nms()
    from ultralytics.utils.nms import non_max_suppression

    rng = np.random.default_rng(3)
    out = np.zeros((2, 84, 400), np.float32)
    out[:, :2] = rng.uniform(0, 320, (2, 2, 400))
    out[:, 2:4] = rng.uniform(5, 80, (2, 2, 400))
    out[:, 4:] = rng.uniform(0, 1, (2, 80, 400)) ** 8
    ours = decode_yolo(out, conf=0.25, iou=0.45)
    theirs = non_max_suppression(torch.from_numpy(out), conf_thres=0.25, iou_thres=0.45)
    for mine, ref in zip(ours, theirs, strict=True):
        ref = ref.numpy()
        assert len(mine) == len(ref) > 0
        order = np.lexsort((ref[:, 0], -ref[:, 4]))
        mine_order = np.lexsort((mine.xyxy[:, 0], -mine.confidence))
        np.testing.assert_allclose(mine.xyxy[mine_order], ref[order, :4], atol=1e-3)
        assert mine.class_id[mine_order].tolist() == ref[order, 5].astype(int).tolist()


def test_end2end_rows_are_thresholded_and_sorted() -> None:
    rows = np.array([[[0, 0, 5, 5, 0.3, 1], [1, 1, 9, 9, 0.9, 0], [2, 2, 3, 3, 0.1, 2]]])
    (dets,) = decode_end2end(rows, conf=0.25)
    assert dets.confidence.tolist() == pytest.approx([0.9, 0.3])
    assert dets.class_id.tolist() == [0, 1]
    with pytest.raises(ValueError, match=r"\(B, K, 6\)"):
        decode_end2end(np.zeros((1, 84, 10)))
