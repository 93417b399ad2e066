"""`iris models` on a machine without internet: a clear failure, never a hang or a traceback."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from iris.models_cli import _online


def run_cli(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {"IRIS_DATA_DIR": str(tmp_path), "IRIS_CONFIG": str(tmp_path / "none.yaml"),
           "PATH": "/usr/bin:/bin"}
    return subprocess.run([sys.executable, "-m", "iris.cli", "models", *args], env=env,
                          capture_output=True, text=True, timeout=120)


@pytest.mark.skipif(_online(timeout=2), reason="this machine is online")
def test_pull_offline_fails_clearly(tmp_path: Path) -> None:
    result = run_cli(tmp_path, "pull")
    assert result.returncode == 1
    assert "offline" in result.stderr
    assert "Traceback" not in result.stderr
    assert not (tmp_path / "models" / "yolo11n.onnx").exists()


def test_list_reports_missing_weights(tmp_path: Path) -> None:
    result = run_cli(tmp_path, "list")
    assert result.returncode == 0
    assert "yolo11n.onnx [missing]" in result.stdout
    assert "buffalo_l [missing]" in result.stdout
