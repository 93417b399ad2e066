"""`iris models list|pull` as an operator runs them: offline a clear failure (never a hang or a
traceback); from a mirror on loopback the models arrive, and a second pull fetches nothing.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from iris.models.face_standins import build_face_pack
from iris.models.fetch import reachable
from iris.models.standins import build_standin_detector
from tests.support.model_mirror import ModelMirror, manifest_for, write_manifest, zip_pack


def run_cli(tmp_path: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    environ = {"IRIS_DATA_DIR": str(tmp_path / "data"), "IRIS_CONFIG": str(tmp_path / "none.yaml"),
               "PATH": "/usr/bin:/bin", "HOME": os.environ.get("HOME", "/tmp"), **env}
    return subprocess.run([sys.executable, "-m", "iris.cli", "models", *args], env=environ,
                          capture_output=True, text=True, timeout=300)


@pytest.mark.skipif(reachable("https://github.com", timeout=2), reason="this machine is online")
def test_pull_offline_fails_clearly(tmp_path: Path) -> None:
    result = run_cli(tmp_path, "pull")
    assert result.returncode == 1
    assert "offline" in result.stderr
    assert "Traceback" not in result.stderr
    assert not (tmp_path / "data" / "models" / "yolo11n.onnx").exists()


def test_list_reports_missing_weights(tmp_path: Path) -> None:
    result = run_cli(tmp_path, "list")
    assert result.returncode == 0
    assert "yolo11n.onnx [missing]" in result.stdout
    assert "buffalo_l [missing]" in result.stdout


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> dict[str, bytes]:
    work = tmp_path_factory.mktemp("served")
    pack = build_face_pack(work)
    return {"yolo11n.onnx": build_standin_detector(work / "yolo11n.onnx").read_bytes(),
            "buffalo_l.zip": zip_pack(pack), "pack": str(pack).encode()}


def test_pull_from_a_mirror_then_nothing_more(tmp_path: Path,
                                              served: dict[str, bytes]) -> None:
    pack = Path(served["pack"].decode())
    manifest = write_manifest(tmp_path / "manifest.json", manifest_for(
        served["yolo11n.onnx"], pack, served["buffalo_l.zip"]))
    with ModelMirror() as mirror:
        mirror.state.files = {k: v for k, v in served.items() if k != "pack"}
        first = run_cli(tmp_path, "pull", "--mirror", mirror.url, "--manifest", str(manifest))
        asked = len(mirror.state.requests)
        second = run_cli(tmp_path, "pull", "--mirror", mirror.url, "--manifest", str(manifest))

    assert first.returncode == 0, first.stderr
    assert "models: fetched yolo11n.onnx, buffalo_l" in first.stdout
    assert "yolo11n.onnx [present]" in first.stdout and "buffalo_l [present]" in first.stdout
    assert second.returncode == 0 and "models: all present" in second.stdout
    assert len(mirror.state.requests) == asked == 2


def test_pull_of_a_damaged_file_fails_with_the_reason(tmp_path: Path,
                                                      served: dict[str, bytes]) -> None:
    manifest = write_manifest(tmp_path / "manifest.json",
                              manifest_for(served["yolo11n.onnx"]))
    with ModelMirror() as mirror:
        mirror.state.files = {"yolo11n.onnx": served["yolo11n.onnx"]}
        mirror.state.damaged = {"yolo11n.onnx"}
        result = run_cli(tmp_path, "pull", "--mirror", mirror.url, "--manifest", str(manifest))

    assert result.returncode == 1
    assert "is not the pinned file" in result.stderr and "Traceback" not in result.stderr
    assert not (tmp_path / "data" / "models" / "yolo11n.onnx").exists()


def test_a_mirror_that_is_down_reads_as_offline(tmp_path: Path) -> None:
    result = run_cli(tmp_path, "pull", "--mirror", "http://127.0.0.1:9")
    assert result.returncode == 1
    assert result.stderr.startswith("iris: offline: no models fetched, using motion")
    assert "cannot reach 127.0.0.1:9" in result.stderr
