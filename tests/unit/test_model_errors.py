"""Every model wrapper says "unavailable" the same way: a `ModelUnavailable` with a reason."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from iris.models.appearance import load_appearance
from iris.models.detectors import load_backend
from iris.models.errors import ModelUnavailable
from iris.models.faces import FaceRecognizer


@pytest.mark.parametrize(
    ("load", "reason"),
    [
        (lambda root: load_backend("onnx", root / "yolo11n.onnx"), "iris models pull"),
        (lambda root: FaceRecognizer(root), "iris models pull"),
        (lambda root: load_appearance(root / "reid.onnx"), "no re-ID model"),
    ],
    ids=["detector", "faces", "appearance"],
)
def test_missing_models_raise_one_error_type_with_a_reason(
    tmp_path: Path, load: Callable[[Path], object], reason: str
) -> None:
    with pytest.raises(ModelUnavailable) as err:
        load(tmp_path)
    assert reason in err.value.reason and str(err.value) == err.value.reason
