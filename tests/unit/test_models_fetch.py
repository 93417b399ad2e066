"""Models on first start, against a mirror on loopback serving stand-in models with known hashes:
fresh data dir → models in place and loadable; damaged bytes refused, nothing left in place;
interrupted downloads resume with Range; a second pull downloads nothing; offline in one line.
"""

from __future__ import annotations

import io
import json
import socket
import zipfile
from pathlib import Path

import pytest

from iris.models.coco import coco_names_dict
from iris.models.detectors.registry import load_backend
from iris.models.face_standins import build_face_pack
from iris.models.faces import load_face_recognizer
from iris.models.fetch_models import ensure_models, pull_models
from iris.models.fetch_plan import lock_path
from iris.models.fetch_progress import LineProgress, NullProgress
from iris.models.manifest import PINNED, Manifest, ManifestError, load_manifest
from iris.models.standins import build_standin_detector
from iris.settings import Settings, load_settings
from tests.support.model_mirror import ModelMirror, manifest_for, sha256, zip_pack

DET = "yolo11n.onnx"
PACK = "buffalo_l.zip"


@pytest.fixture(scope="module")
def detector_bytes(tmp_path_factory: pytest.TempPathFactory) -> bytes:
    return build_standin_detector(tmp_path_factory.mktemp("det") / DET).read_bytes()


@pytest.fixture(scope="module")
def pack_folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_face_pack(tmp_path_factory.mktemp("faces"))


@pytest.fixture(scope="module")
def pack_bytes(pack_folder: Path) -> bytes:
    return zip_pack(pack_folder)


@pytest.fixture
def manifest(detector_bytes: bytes, pack_folder: Path, pack_bytes: bytes) -> Manifest:
    return Manifest.model_validate(manifest_for(detector_bytes, pack_folder, pack_bytes))


@pytest.fixture
def mirror(detector_bytes: bytes, pack_bytes: bytes) -> ModelMirror:
    with ModelMirror() as server:
        server.state.files = {DET: detector_bytes, PACK: pack_bytes}
        yield server


def settings_for(tmp_path: Path, **extra: object) -> Settings:
    return load_settings(data_dir=tmp_path / "data", **extra)


def leftovers(root: Path) -> list[str]:
    return sorted(str(p.relative_to(root)) for p in root.rglob("*")
                  if p.name.endswith((".part", ".partial")) or p.name.startswith("."))


def test_fresh_data_dir_gets_models_that_load(tmp_path: Path, mirror: ModelMirror,
                                              manifest: Manifest, detector_bytes: bytes) -> None:
    settings = settings_for(tmp_path)
    report = pull_models(settings, progress=NullProgress(), base_url=mirror.url,
                         manifest=manifest)

    assert [(i.label, i.status) for i in report.items] == [(DET, "fetched"),
                                                         ("buffalo_l", "fetched")]
    assert settings.detector_model_path.read_bytes() == detector_bytes
    backend = load_backend("onnx", settings.detector_model_path, imgsz=320)
    assert backend.names[0] == "person"  # the detector is available
    assert load_face_recognizer(settings.face_model_root_path, "buffalo_l") is not None
    assert leftovers(settings.root) == []
    assert not (settings.face_model_root_path / "models" / PACK).exists()  # zip removed
    lock = json.loads(lock_path(settings).read_text())["installed"]
    assert lock[f"detector:{DET}"]["sha256"] == sha256(detector_bytes)
    assert set(lock["faces:buffalo_l"]["members"]) == {"det_10g.onnx", "w600k_r50.onnx"}


def test_second_pull_downloads_nothing(tmp_path: Path, mirror: ModelMirror,
                                       manifest: Manifest) -> None:
    settings = settings_for(tmp_path)
    pull_models(settings, progress=NullProgress(), base_url=mirror.url, manifest=manifest)
    asked = len(mirror.state.requests)

    again = pull_models(settings, progress=NullProgress(), base_url=mirror.url,
                        manifest=manifest)

    assert len(mirror.state.requests) == asked
    assert {i.status for i in again.items} == {"present"}
    assert again.summary() == "models: all present"


def test_damaged_download_is_refused_and_leaves_nothing(
        tmp_path: Path, mirror: ModelMirror, manifest: Manifest) -> None:
    mirror.state.damaged = {DET, PACK}
    settings = settings_for(tmp_path)

    report = pull_models(settings, progress=NullProgress(), base_url=mirror.url,
                         manifest=manifest)

    assert [i.status for i in report.items] == ["failed", "failed"]
    message = report.items[0].detail
    assert "not the pinned file" in message and "SHA-256" in message and "Refused" in message
    assert not settings.detector_model_path.exists()
    assert not (settings.face_model_root_path / "models" / "buffalo_l").exists()
    assert leftovers(settings.root) == []
    assert "using motion" in report.summary() and "faces off" in report.summary()


def test_interrupted_download_resumes_with_range(
        tmp_path: Path, mirror: ModelMirror, manifest: Manifest, detector_bytes: bytes) -> None:
    mirror.state.cut_after = {DET: 4096}
    settings = settings_for(tmp_path)

    report = pull_models(settings, progress=NullProgress(), base_url=mirror.url,
                         manifest=manifest)

    assert report.items[0].status == "fetched"
    asks = [r for r in mirror.state.requests if r.path == DET]
    assert [(r.range, r.status) for r in asks] == [(None, 200), ("bytes=4096-", 206)]
    assert mirror.bytes_sent(DET) == len(detector_bytes)  # nothing fetched twice
    assert settings.detector_model_path.read_bytes() == detector_bytes


def test_part_from_an_earlier_run_is_resumed(
        tmp_path: Path, mirror: ModelMirror, manifest: Manifest, detector_bytes: bytes) -> None:
    settings = settings_for(tmp_path)
    half = len(detector_bytes) // 2
    part = settings.detector_model_path.with_name(DET + ".part")
    part.parent.mkdir(parents=True)
    part.write_bytes(detector_bytes[:half])

    pull_models(settings, progress=NullProgress(), base_url=mirror.url, manifest=manifest)

    asks = [r for r in mirror.state.requests if r.path == DET]
    assert [r.range for r in asks] == [f"bytes={half}-"]
    assert mirror.bytes_sent(DET) == len(detector_bytes) - half
    assert settings.detector_model_path.read_bytes() == detector_bytes
    assert not part.exists()


def test_bad_part_is_fetched_again_from_the_start(
        tmp_path: Path, mirror: ModelMirror, manifest: Manifest, detector_bytes: bytes) -> None:
    settings = settings_for(tmp_path)
    part = settings.detector_model_path.with_name(DET + ".part")
    part.parent.mkdir(parents=True)
    part.write_bytes(b"\0" * 1000)  # not a prefix of the file

    report = pull_models(settings, progress=NullProgress(), base_url=mirror.url,
                         manifest=manifest)

    assert report.items[0].status == "fetched"
    assert [r.range for r in mirror.state.requests if r.path == DET] == ["bytes=1000-", None]
    assert settings.detector_model_path.read_bytes() == detector_bytes


def _zip(entries: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, data in entries.items():
            archive.writestr(name, data)
    return buffer.getvalue()


def test_pack_member_that_is_not_pinned_is_refused(
        tmp_path: Path, mirror: ModelMirror, pack_folder: Path) -> None:
    # The archive is the one the manifest pins, but a member inside is not the pinned model.
    members = {p.name: p.read_bytes() for p in pack_folder.iterdir()}
    members["det_10g.onnx"] = b"not a detector"
    archive = _zip(members)
    data = manifest_for(pack=pack_folder, pack_zip=archive)
    mirror.state.files[PACK] = archive
    settings = settings_for(tmp_path)

    report = pull_models(settings, progress=NullProgress(), base_url=mirror.url,
                         manifest=Manifest.model_validate(data))

    faces = report.items[-1]
    assert faces.status == "failed" and "det_10g.onnx" in faces.detail
    assert not (settings.face_model_root_path / "models" / "buffalo_l").exists()
    assert leftovers(settings.root) == []


def test_archive_escaping_the_pack_is_refused(tmp_path: Path, mirror: ModelMirror,
                                              pack_folder: Path) -> None:
    archive = _zip({"../../evil.onnx": b"x", "det_10g.onnx": b"y"})
    data = manifest_for(pack=pack_folder, pack_zip=archive)
    data["files"][0]["members"] = {}
    mirror.state.files[PACK] = archive
    settings = settings_for(tmp_path)

    report = pull_models(settings, progress=NullProgress(), base_url=mirror.url,
                         manifest=Manifest.model_validate(data))

    assert report.items[-1].status == "failed" and "unsafe path" in report.items[-1].detail
    assert not any(tmp_path.rglob("evil.onnx"))


def closed_port_url() -> str:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}"


def test_offline_start_says_so_in_one_line(tmp_path: Path, manifest: Manifest,
                                           monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "manifest.json"
    path.write_text(manifest.model_dump_json())
    monkeypatch.setenv("IRIS_MODELS_MANIFEST", str(path))
    settings = settings_for(tmp_path, models_base_url=closed_port_url())
    out = io.StringIO()

    report = ensure_models(settings, progress=LineProgress(out))

    assert report.offline
    lines = out.getvalue().splitlines()
    assert len(lines) == 1, lines
    assert lines[0].startswith("offline: no models fetched, using motion, faces off")
    assert not (settings.root / "models" / DET).exists()


def test_auto_fetch_off_fetches_nothing(tmp_path: Path, mirror: ModelMirror, manifest: Manifest,
                                        monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "manifest.json"
    path.write_text(manifest.model_dump_json())
    monkeypatch.setenv("IRIS_MODELS_MANIFEST", str(path))
    settings = settings_for(tmp_path, models_auto_fetch=False, models_base_url=mirror.url)

    report = ensure_models(settings, progress=NullProgress())

    assert mirror.state.requests == []
    assert {i.status for i in report.items} == {"not fetched"}


def test_start_up_fetches_from_the_configured_mirror(
        tmp_path: Path, mirror: ModelMirror, manifest: Manifest,
        monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "manifest.json"
    path.write_text(manifest.model_dump_json())
    monkeypatch.setenv("IRIS_MODELS_MANIFEST", str(path))
    settings = settings_for(tmp_path, models_base_url=mirror.url)
    out = io.StringIO()

    report = ensure_models(settings, progress=LineProgress(out))

    assert [i.status for i in report.items] == ["fetched", "fetched"]
    assert f"models: fetching {DET}" in out.getvalue()
    assert out.getvalue().splitlines()[-1].startswith(f"models: fetched {DET}, buffalo_l")


def test_pt_is_verified_then_exported_and_the_export_hash_recorded(
        tmp_path: Path, mirror: ModelMirror) -> None:
    from iris.models.detectors.ultralytics import prepare_ultralytics

    prepare_ultralytics()
    import torch
    from ultralytics import YOLO

    torch.manual_seed(0)
    pt = tmp_path / "yolo11n.pt"
    model = YOLO("yolo11n.yaml", task="detect")  # the real architecture, random weights
    model.model.names = coco_names_dict()  # as the published yolo11n.pt names its classes
    model.save(str(pt))
    mirror.state.files["yolo11n.pt"] = pt.read_bytes()
    data = manifest_for(pt.read_bytes(), detector_name="yolo11n.pt",
                        detector_install="export-onnx")
    settings = settings_for(tmp_path)

    report = pull_models(settings, progress=NullProgress(), base_url=mirror.url,
                         manifest=Manifest.model_validate(data))

    assert report.items[0].status == "fetched", report.items[0].detail
    onnx = settings.detector_model_path
    assert load_backend("onnx", onnx, imgsz=320).names[0] == "person"
    assert (settings.root / "models" / "yolo11n.pt").read_bytes() == pt.read_bytes()
    record = json.loads(lock_path(settings).read_text())["installed"][f"detector:{DET}"]
    assert record["sha256"] == sha256(onnx.read_bytes())
    assert record["from_sha256"] == sha256(pt.read_bytes())
    assert "ultralytics" in record["made_by"]


def test_pinned_manifest_pins_every_file_and_member() -> None:
    names = {f.name: f for f in PINNED.files}
    assert set(names) == {"yolo11n.pt", "buffalo_l.zip"}
    assert all(len(f.sha256) == 64 and f.size for f in PINNED.files)
    assert {"det_10g.onnx", "w600k_r50.onnx"} <= set(names["buffalo_l.zip"].members)
    assert names["yolo11n.pt"].url_from("http://mirror.lan/models/") == \
        "http://mirror.lan/models/yolo11n.pt"


def test_bad_manifest_file_is_named_in_the_error(tmp_path: Path) -> None:
    path = tmp_path / "m.json"
    path.write_text(json.dumps({"version": 1, "files": [{"name": "x", "role": "detector"}]}))
    with pytest.raises(ManifestError, match=r"m\.json: files\.0\.url"):
        load_manifest(path)
