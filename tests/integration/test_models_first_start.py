"""`iris up` on a fresh data dir fetches its models from a mirror on loopback before it starts,
and the weights are in place (the detector loads them with the first camera); a second start
downloads nothing; offline it says so in one line and starts with the motion fallback.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from iris.models.face_standins import build_face_pack
from iris.models.standins import build_standin_detector
from iris.serve.model_handles import STANDBY_REASON
from tests.integration.iris_process import IrisProcess
from tests.support.model_mirror import ModelMirror, manifest_for, write_manifest, zip_pack

pytestmark = pytest.mark.integration


def models_ready(iris: IrisProcess) -> bool:
    """The weights and the face pack are in place and wait for a camera to load them."""
    with iris.client() as client:
        body = client.get("/api/system").json()
    backend = body["backend"]
    return bool(body["models"]["yolo_present"] and backend["detector_standby"]
                and backend["faces_standby"]) and backend["detector_reason"] == STANDBY_REASON


def models_missing(iris: IrisProcess) -> bool:
    """Neither model is there: the API says so now, not standby."""
    with iris.client() as client:
        backend = client.get("/api/system").json()["backend"]
    return (not backend["detector_standby"] and not backend["faces_standby"]
            and backend["detector_reason"].startswith("no detector weights at "))


def test_first_start_fetches_models_and_the_second_fetches_nothing(tmp_path: Path) -> None:
    detector = build_standin_detector(tmp_path / "src" / "yolo11n.onnx").read_bytes()
    pack = build_face_pack(tmp_path / "src")
    archive = zip_pack(pack)
    manifest = write_manifest(tmp_path / "manifest.json",
                              manifest_for(detector, pack, archive))
    log = tmp_path / "iris.log"
    with ModelMirror() as mirror:
        mirror.state.files = {"yolo11n.onnx": detector, "buffalo_l.zip": archive}
        iris = IrisProcess(tmp_path / "data", log, IRIS_MODELS_BASE_URL=mirror.url,
                           IRIS_MODELS_MANIFEST=str(manifest), IRIS_MODELS_AUTO_FETCH="true")
        iris.start()
        try:
            assert models_ready(iris)
        finally:
            iris.stop()
        asked = len(mirror.state.requests)
        assert "models: fetched yolo11n.onnx, buffalo_l" in log.read_text()

        iris.start()
        try:
            assert models_ready(iris)
        finally:
            iris.stop()
        assert len(mirror.state.requests) == asked


def test_offline_start_is_one_line_and_uses_motion(tmp_path: Path) -> None:
    log = tmp_path / "iris.log"
    iris = IrisProcess(tmp_path / "data", log, IRIS_MODELS_BASE_URL="http://127.0.0.1:9",
                       IRIS_MODELS_AUTO_FETCH="true")
    iris.start()
    try:
        assert models_missing(iris)
    finally:
        iris.stop()
    lines = [line for line in log.read_text().splitlines()
             if line.startswith(("offline:", "models:"))]
    assert len(lines) == 1 and lines[0].startswith("offline: no models fetched, using motion")
