"""`iris doctor` on broken boxes: a read-only data root, missing or damaged models, a port held
by another program, a wrong clock — each explained in plain words, with a fix and exit 1 when
something is broken.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from iris.cli.doctor_checks import check_clock
from iris.models.face_standins import build_face_pack
from iris.models.fetch_models import pull_models
from iris.models.fetch_progress import NullProgress
from iris.models.manifest import Manifest
from iris.models.standins import build_standin_detector
from iris.settings import load_settings
from tests.support.model_mirror import ModelMirror, manifest_for, write_manifest, zip_pack


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture(scope="module")
def manifest_data(tmp_path_factory: pytest.TempPathFactory) -> tuple[dict[str, Any], dict]:
    work = tmp_path_factory.mktemp("models")
    detector = build_standin_detector(work / "yolo11n.onnx").read_bytes()
    pack = build_face_pack(work)
    archive = zip_pack(pack)
    return manifest_for(detector, pack, archive), {"yolo11n.onnx": detector,
                                                   "buffalo_l.zip": archive}


@pytest.fixture
def env(tmp_path: Path, manifest_data: tuple[dict[str, Any], dict]) -> dict[str, str]:
    manifest = write_manifest(tmp_path / "manifest.json", manifest_data[0])
    return {**os.environ, "IRIS_DATA_DIR": str(tmp_path / "data"),
            "IRIS_CONFIG": str(tmp_path / "none.yaml"), "IRIS_PORT": str(free_port()),
            "IRIS_DASHBOARD": "false", "IRIS_MODELS_MANIFEST": str(manifest),
            "IRIS_API_KEY": "k" * 32}


def install_models(env: dict[str, str], manifest_data: tuple[dict[str, Any], dict]) -> None:
    settings = load_settings(data_dir=Path(env["IRIS_DATA_DIR"]))
    with ModelMirror() as mirror:
        mirror.state.files = dict(manifest_data[1])
        report = pull_models(settings, progress=NullProgress(), base_url=mirror.url,
                             manifest=Manifest.model_validate(manifest_data[0]))
    assert [i.status for i in report.items] == ["fetched", "fetched"]


def doctor(env: dict[str, str], *wrap: str) -> tuple[int, dict[str, dict[str, str]]]:
    result = subprocess.run([*wrap, sys.executable, "-m", "iris.cli", "doctor", "--json"],
                            env=env, capture_output=True, text=True, timeout=300)
    assert "Traceback" not in result.stderr, result.stderr
    report = json.loads(result.stdout)
    assert report["ok"] is (result.returncode == 0)
    return result.returncode, {c["name"]: c for c in report["checks"]}


def test_a_sound_box_passes_and_models_match_their_hashes(
        env: dict[str, str], manifest_data: tuple[dict[str, Any], dict]) -> None:
    install_models(env, manifest_data)
    code, checks = doctor(env)
    assert code == 0, {k: v for k, v in checks.items() if v["status"] == "fail"}
    assert checks["detector model"]["status"] == "ok"
    assert "matches the pinned hash" in checks["detector model"]["summary"]
    assert "2 files match their pinned hashes" in checks["face models"]["summary"]
    assert checks["data root"]["status"] == "ok"
    assert checks["iris"]["summary"].startswith("not running at http://127.0.0.1:")


def test_missing_models_are_explained_not_failed(env: dict[str, str]) -> None:
    code, checks = doctor(env)
    assert code == 0
    detector = checks["detector model"]
    assert detector["status"] == "warn"
    assert "cameras record on motion only" in detector["summary"]
    assert "iris models pull" in detector["fix"]
    assert "enrollment answers 503" in checks["face models"]["summary"]


def test_a_damaged_model_fails(env: dict[str, str],
                               manifest_data: tuple[dict[str, Any], dict]) -> None:
    install_models(env, manifest_data)
    weights = Path(env["IRIS_DATA_DIR"]) / "models" / "yolo11n.onnx"
    data = bytearray(weights.read_bytes())
    data[-1] ^= 0xFF
    weights.write_bytes(bytes(data))
    member = Path(env["IRIS_DATA_DIR"]) / "models" / "insightface" / "models" / "buffalo_l"
    (member / "w600k_r50.onnx").write_bytes(b"not the recogniser")

    code, checks = doctor(env)

    assert code == 1
    assert checks["detector model"]["status"] == "fail"
    assert "the file changed or is damaged" in checks["detector model"]["summary"]
    assert checks["face models"]["status"] == "fail"
    assert "w600k_r50.onnx" in checks["face models"]["summary"]


def test_a_port_held_by_another_program_fails(env: dict[str, str]) -> None:
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", int(env["IRIS_PORT"])))
        holder.listen()
        code, checks = doctor(env)
    port = checks[f"API port {env['IRIS_PORT']}"]
    assert code == 1 and port["status"] == "fail"
    assert f"port {env['IRIS_PORT']} is in use by" in port["summary"]
    assert "iris up cannot listen there" in port["summary"] and "IRIS_PORT" in port["fix"]


def _can_mount_privately() -> bool:
    if shutil.which("unshare") is None:
        return False
    probe = subprocess.run(["unshare", "--user", "--map-root-user", "--mount", "true"],
                           capture_output=True)
    return probe.returncode == 0


@pytest.mark.skipif(not _can_mount_privately(), reason="no private mount namespace here")
def test_a_read_only_data_root_fails_in_plain_words(env: dict[str, str]) -> None:
    root = Path(env["IRIS_DATA_DIR"])
    root.mkdir()
    # A read-only file system over the data root, seen only by the doctor's process.
    wrap = ["unshare", "--user", "--map-root-user", "--mount", "sh", "-c",
            f'mount -t tmpfs -o ro tmpfs "{root}" && exec "$0" "$@"']
    code, checks = doctor(env, *wrap)
    assert code == 1
    check = checks["data root"]
    assert check["status"] == "fail"
    assert f"{root} is on a read-only file system: Iris cannot record" in check["summary"]
    assert "read-write" in check["fix"]


def test_clock_before_release_fails_and_files_from_the_future_warn(tmp_path: Path) -> None:
    settings = load_settings(data_dir=tmp_path / "data", )
    settings.root.mkdir()
    [early] = check_clock(settings, now=datetime(2020, 1, 1, tzinfo=UTC))
    assert early.status == "fail" and "which is wrong" in early.summary

    future = settings.root / "iris.db"
    future.write_text("")
    ahead = datetime(2031, 1, 1, tzinfo=UTC).timestamp()
    os.utime(future, (ahead, ahead))
    [late] = check_clock(settings, now=datetime(2030, 1, 1, tzinfo=UTC))
    assert late.status == "warn" and "the clock went back" in late.summary
