"""Detections and the small value types every stage passes."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from iris.models.letterbox import letterbox
from iris.types import Detections, Observation, Track, box_iou


def make(n: int = 3, tracked: bool = False) -> Detections:
    xyxy = np.array([[10 * i, 10 * i, 10 * i + 5, 10 * i + 8] for i in range(n)], np.float64)
    return Detections(
        xyxy=xyxy,
        confidence=np.linspace(0.9, 0.5, n),
        class_id=np.arange(n) % 3,
        tracker_id=np.arange(100, 100 + n) if tracked else None,
    )


def test_inputs_are_converted_to_the_documented_dtypes() -> None:
    dets = make(tracked=True)
    assert dets.xyxy.dtype == np.float32 and dets.xyxy.shape == (3, 4)
    assert dets.confidence.dtype == np.float32
    assert dets.class_id.dtype == np.int32
    assert dets.tracker_id is not None and dets.tracker_id.dtype == np.int64


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"xyxy": np.zeros((2, 3))}, r"xyxy must have shape \(N, 4\)"),
        ({"xyxy": np.zeros(8)}, r"xyxy must have shape \(N, 4\)"),
        ({"confidence": np.zeros(3)}, r"confidence must have shape \(2,\)"),
        ({"class_id": np.zeros((2, 1))}, r"class_id must have shape \(2,\)"),
        ({"tracker_id": np.zeros(1)}, r"tracker_id must have shape \(2,\)"),
        ({"confidence": ["high", "low"]}, "confidence is not convertible"),
    ],
)
def test_mismatched_arrays_are_rejected(kwargs: dict[str, object], message: str) -> None:
    base: dict[str, object] = {
        "xyxy": np.zeros((2, 4)),
        "confidence": np.zeros(2),
        "class_id": np.zeros(2),
    }
    with pytest.raises(ValueError, match=message):
        Detections(**{**base, **kwargs})  # type: ignore[arg-type]


def test_empty_has_zero_rows_of_every_array() -> None:
    empty = Detections.empty()
    assert len(empty) == 0
    assert empty.xyxy.shape == (0, 4)
    assert empty.labels(["person"]) == []
    assert len(Detections(xyxy=[], confidence=[], class_id=[])) == 0  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("index", "expected_conf"),
    [
        (np.array([True, False, True]), [0.9, 0.5]),
        ([2, 0], [0.5, 0.9]),
        (1, [0.7]),
        (-1, [0.5]),
        (slice(1, None), [0.7, 0.5]),
        (np.array([], np.int64), []),
        (np.array([False, False, False]), []),
    ],
)
def test_indexing_selects_rows_of_all_arrays(index: object, expected_conf: list[float]) -> None:
    dets = make(tracked=True)
    picked = dets[index]  # type: ignore[index]
    assert isinstance(picked, Detections)
    np.testing.assert_allclose(picked.confidence, expected_conf, rtol=1e-6)
    assert picked.xyxy.shape == (len(expected_conf), 4)
    assert picked.tracker_id is not None and len(picked.tracker_id) == len(expected_conf)


def test_a_mask_of_the_wrong_length_is_an_index_error() -> None:
    with pytest.raises(IndexError, match="boolean mask"):
        make()[np.array([True, False])]


def test_labels_use_class_names_and_name_unknown_ids() -> None:
    dets = Detections(xyxy=np.zeros((3, 4)), confidence=np.ones(3), class_id=np.array([0, 2, 7]))
    assert dets.labels(["person", "bicycle", "car"]) == ["person", "car", "class7"]
    assert len(dets.with_classes([2])) == 1


def test_merge_keeps_tracker_ids_only_when_all_parts_have_them() -> None:
    assert len(Detections.merge([])) == 0
    both = Detections.merge([make(2, tracked=True), make(1, tracked=True)])
    assert both.tracker_id is not None and both.tracker_id.tolist() == [100, 101, 100]
    assert Detections.merge([make(2, tracked=True), make(1)]).tracker_id is None


def test_scale_undoes_resize_and_pad_and_clips() -> None:
    dets = Detections(
        xyxy=np.array([[20, 30, 120, 230]]), confidence=np.ones(1), class_id=np.zeros(1)
    )
    back = dets.scale(0.5, pad=(10, 10), clip_to=(150, 300))
    np.testing.assert_allclose(back.xyxy, [[20, 40, 150, 300]])
    with pytest.raises(ValueError, match="positive"):
        dets.scale(0)


def test_from_letterbox_maps_back_to_the_source_frame() -> None:
    frame = np.zeros((720, 1280, 3), np.uint8)
    _, lb = letterbox(frame, 320)
    source = np.array([[100, 200, 300, 600]], np.float32)
    dets = Detections(xyxy=lb.to_input(source), confidence=np.ones(1), class_id=np.zeros(1))
    np.testing.assert_allclose(dets.from_letterbox(lb).xyxy, source, atol=1e-3)


@pytest.mark.parametrize(
    ("a", "b", "expected"),
    [
        ([0, 0, 10, 10], [0, 0, 10, 10], 1.0),
        ([0, 0, 10, 10], [5, 0, 15, 10], 50 / 150),
        ([0, 0, 10, 10], [20, 20, 30, 30], 0.0),
        ([0, 0, 0, 0], [0, 0, 0, 0], 0.0),
    ],
)
def test_box_iou(a: list[float], b: list[float], expected: float) -> None:
    assert box_iou(np.array([a]), np.array([b]))[0, 0] == pytest.approx(expected)


def test_records_are_immutable() -> None:
    track = Track(
        track_id=1, label="person", box=(0, 0, 1, 1), score=0.9, first_seen=1, last_seen=2
    )
    observation = Observation(camera_id=1, track_id=1, ts=2.0, label="person", box=(0, 0, 1, 1))
    with pytest.raises(dataclasses.FrozenInstanceError):
        track.score = 0.1  # type: ignore[misc]
    with pytest.raises(dataclasses.FrozenInstanceError):
        observation.quality = 1.0  # type: ignore[misc]
    assert observation.face_embedding is None and observation.appearance is None
