"""Object filters drop the detections of a label that fail its score, area or ratio bounds."""

from __future__ import annotations

import numpy as np
import pytest

from iris.types import Detections
from iris.zones.filters import ObjectFilter, apply_filters

W, H = 1000, 1000


def dets(*rows: tuple[float, float, float, float, float, int]) -> Detections:
    return Detections(xyxy=[r[:4] for r in rows], confidence=[r[4] for r in rows],
                      class_id=[r[5] for r in rows])


NAMES = ["person", "car"]
PERSON_SMALL = (0, 0, 20, 50, 0.9, 0)       # area 0.001, ratio 0.4
PERSON_BIG = (0, 0, 300, 600, 0.9, 0)       # area 0.18, ratio 0.5
PERSON_WEAK = (0, 0, 300, 600, 0.3, 0)
PERSON_WIDE = (0, 0, 600, 300, 0.9, 0)      # ratio 2.0 (a person lying is no person here)
CAR = (0, 0, 20, 50, 0.2, 1)


@pytest.mark.parametrize(("rule", "kept"), [
    (ObjectFilter(), [0, 1, 2, 3, 4]),
    (ObjectFilter(min_score=0.5), [0, 1, 3, 4]),
    (ObjectFilter(min_area=0.01), [1, 2, 3, 4]),
    (ObjectFilter(max_area=0.01), [0, 4]),
    (ObjectFilter(max_ratio=1.0), [0, 1, 2, 4]),
    (ObjectFilter(min_ratio=0.45, max_ratio=1.0), [1, 2, 4]),
])
def test_a_person_filter_leaves_cars_alone(rule: ObjectFilter, kept: list[int]) -> None:
    d = dets(PERSON_SMALL, PERSON_BIG, PERSON_WEAK, PERSON_WIDE, CAR)
    out = apply_filters(d, d.labels(NAMES), {"person": rule}, W, H)
    expected = d[np.asarray(kept)]
    assert np.array_equal(out.xyxy, expected.xyxy)
    assert np.array_equal(out.confidence, expected.confidence)


def test_no_filters_returns_the_detections_as_they_are() -> None:
    d = dets(PERSON_SMALL)
    assert apply_filters(d, d.labels(NAMES), {}, W, H) is d


def test_min_above_max_is_refused() -> None:
    with pytest.raises(ValueError, match="min_area must not exceed max_area"):
        ObjectFilter(min_area=0.5, max_area=0.1)


def test_from_dict_reads_the_row_json() -> None:
    assert ObjectFilter.from_dict({"min_score": 0.6, "max_area": 1}) == \
        ObjectFilter(min_score=0.6, max_area=1.0)
