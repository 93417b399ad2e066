"""Shared test configuration: markers and where artifacts go."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

ARTIFACTS = Path(os.environ.get("IRIS_TEST_ARTIFACTS", "test-artifacts")).resolve()

os.environ.setdefault("YOLO_OFFLINE", "1")
os.environ.setdefault("YOLO_AUTOINSTALL", "0")
os.environ.setdefault("YOLO_CONFIG_DIR", str(Path("/tmp/iris-yolo-config")))


@pytest.fixture(scope="session")
def artifacts_dir() -> Path:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    return ARTIFACTS
