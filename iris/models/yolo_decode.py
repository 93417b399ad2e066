"""Decode raw YOLO (v8/11-style) detection output into `Detections`, in numpy.

The head emits ``(B, 4 + nc, N)``: per anchor a box ``cx, cy, w, h`` in input pixels followed
by one sigmoid score per class (no objectness). Decoding keeps each anchor's best class, drops
scores below the confidence threshold, runs class-aware NMS and keeps the top ``max_det``,
matching ultralytics' default (``multi_label=False``) postprocessing.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from iris.types import Detections

MAX_NMS_CANDIDATES = 30_000
"""Cap on boxes entering NMS per image (ultralytics' ``max_nms``)."""

_CLASS_OFFSET = 7680.0
"""Per-class coordinate shift that keeps boxes of different classes from overlapping."""


def nms(xyxy: np.ndarray, scores: np.ndarray, iou_threshold: float) -> npt.NDArray[np.int64]:
    """Greedy non-maximum suppression.

    Args:
        xyxy: ``(N, 4)`` boxes.
        scores: ``(N,)`` scores.
        iou_threshold: a box whose IoU with a kept, higher-scoring box exceeds this is dropped.

    Returns:
        Indices of the kept boxes, by decreasing score.
    """
    xyxy = np.asarray(xyxy, np.float32).reshape(-1, 4)
    order = np.argsort(-np.asarray(scores, np.float32), kind="stable")
    area = np.clip(xyxy[:, 2] - xyxy[:, 0], 0, None) * np.clip(xyxy[:, 3] - xyxy[:, 1], 0, None)
    keep: list[int] = []
    # One iteration per kept box; each removes what it suppresses from the queue.
    while order.size:
        i = int(order[0])
        keep.append(i)
        rest = order[1:]
        lt = np.maximum(xyxy[i, :2], xyxy[rest, :2])
        rb = np.minimum(xyxy[i, 2:], xyxy[rest, 2:])
        wh = np.clip(rb - lt, 0, None)
        inter = wh[:, 0] * wh[:, 1]
        iou = inter / np.maximum(area[i] + area[rest] - inter, 1e-9)
        order = rest[iou <= iou_threshold]
    return np.asarray(keep, np.int64)


def batched_nms(
    xyxy: np.ndarray, scores: np.ndarray, class_id: np.ndarray, iou_threshold: float
) -> npt.NDArray[np.int64]:
    """Class-aware NMS: boxes only suppress boxes of their own class."""
    if len(xyxy) == 0:
        return np.empty((0,), np.int64)
    shifted = np.asarray(xyxy, np.float32) + (
        np.asarray(class_id, np.float32)[:, None] * _CLASS_OFFSET
    )
    return nms(shifted, scores, iou_threshold)


def decode_image(
    pred: np.ndarray,
    conf: float = 0.25,
    iou: float = 0.45,
    max_det: int = 300,
    classes: list[int] | None = None,
    agnostic: bool = False,
) -> Detections:
    """Decode one image's ``(4 + nc, N)`` prediction.

    Args:
        pred: raw head output for one image.
        conf: minimum class score to keep a box.
        iou: NMS IoU threshold.
        max_det: most boxes to return.
        classes: keep only these class ids (``None`` keeps all).
        agnostic: run NMS across classes instead of per class.

    Returns:
        Detections in input-pixel coordinates, by decreasing confidence.

    Raises:
        ValueError: a prediction that is not 2-D with at least 5 rows.
    """
    if pred.ndim != 2 or pred.shape[0] < 5:
        raise ValueError(f"expected a (4 + nc, N) YOLO prediction, got shape {pred.shape}")
    cls_scores = pred[4:]
    class_id = cls_scores.argmax(axis=0)
    score = np.take_along_axis(cls_scores, class_id[None], axis=0)[0]
    keep = score > conf
    if classes is not None:
        keep &= np.isin(class_id, classes)
    idx = np.flatnonzero(keep)
    if idx.size == 0:
        return Detections.empty()
    if idx.size > MAX_NMS_CANDIDATES:
        idx = idx[np.argsort(-score[idx], kind="stable")[:MAX_NMS_CANDIDATES]]
    cx, cy, w, h = pred[0, idx], pred[1, idx], pred[2, idx], pred[3, idx]
    xyxy = np.stack([cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2], axis=1)
    score, class_id = score[idx], class_id[idx]
    if agnostic:
        kept = nms(xyxy, score, iou)
    else:
        kept = batched_nms(xyxy, score, class_id, iou)
    kept = kept[:max_det]
    return Detections(xyxy=xyxy[kept], confidence=score[kept], class_id=class_id[kept])


def decode_yolo(
    output: np.ndarray,
    conf: float = 0.25,
    iou: float = 0.45,
    max_det: int = 300,
    classes: list[int] | None = None,
    agnostic: bool = False,
) -> list[Detections]:
    """Decode a batch of raw YOLO output ``(B, 4 + nc, N)`` (or one image's ``(4 + nc, N)``).

    Args:
        output: raw head output.
        conf: minimum class score to keep a box.
        iou: NMS IoU threshold.
        max_det: most boxes per image.
        classes: keep only these class ids (``None`` keeps all).
        agnostic: run NMS across classes instead of per class.

    Returns:
        One `Detections` per image, boxes in input-pixel coordinates.

    Raises:
        ValueError: an output of the wrong rank, or thresholds outside ``[0, 1]``.
    """
    if not 0.0 <= conf <= 1.0 or not 0.0 <= iou <= 1.0:
        raise ValueError(f"conf and iou must lie in [0, 1], got conf={conf}, iou={iou}")
    if max_det < 1:
        raise ValueError(f"max_det must be at least 1, got {max_det}")
    out = np.asarray(output)
    if out.ndim == 2:
        out = out[None]
    if out.ndim != 3:
        raise ValueError(f"expected YOLO output (B, 4 + nc, N), got shape {out.shape}")
    out = out.astype(np.float32, copy=False)
    return [decode_image(p, conf, iou, max_det, classes, agnostic) for p in out]


def decode_end2end(output: np.ndarray, conf: float = 0.25, max_det: int = 300) -> list[Detections]:
    """Decode NMS-free ("end2end", e.g. YOLO26/v10) output ``(B, K, 6)``.

    Each row is ``x1, y1, x2, y2, score, class`` in input pixels; the model already suppressed
    duplicates, so only the confidence threshold and ``max_det`` apply.

    Raises:
        ValueError: an output that is not ``(B, K, 6)``.
    """
    out = np.asarray(output, np.float32)
    if out.ndim != 3 or out.shape[2] != 6:
        raise ValueError(f"expected end2end YOLO output (B, K, 6), got shape {out.shape}")
    results = []
    for rows in out:
        rows = rows[rows[:, 4] > conf]
        rows = rows[np.argsort(-rows[:, 4], kind="stable")[:max_det]]
        results.append(
            Detections(
                xyxy=rows[:, :4], confidence=rows[:, 4], class_id=rows[:, 5].astype(np.int32)
            )
        )
    return results
