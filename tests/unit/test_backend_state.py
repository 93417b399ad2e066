"""The CLI's wording of the detector's state (`iris status`, `iris doctor`)."""

from __future__ import annotations

import pytest

from iris.cli.backend_state import detector_state
from iris.serve.model_handles import STANDBY_REASON


@pytest.mark.parametrize(("backend", "expected"), [
    ({"detector_available": True, "detector_reason": None}, "available"),
    ({"detector_available": False, "detector_reason": STANDBY_REASON, "detector_standby": True},
     "standby (the models load when the first camera starts)"),
    ({"detector_available": False, "detector_reason": "no detector weights at /m.onnx",
      "detector_standby": False}, "unavailable (no detector weights at /m.onnx)"),
    ({}, "unavailable (unknown)"),
])
def test_detector_state(backend: dict, expected: str) -> None:
    assert detector_state(backend) == expected
