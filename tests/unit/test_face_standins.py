"""Stand-in SCRFD + ArcFace through insightface's own FaceAnalysis, and `FaceRecognizer`."""

from __future__ import annotations

import itertools
import os
import shutil
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import pytest

from iris.models.face_standins import DET_FILE, REC_FILE, build_face_pack, draw_face
from iris.models.faces import FaceRecognizer, FaceUnavailable, load_face_recognizer
from iris.types import box_iou


@pytest.fixture(scope="module")
def face_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("insightface")
    build_face_pack(root)
    return root


@pytest.fixture(scope="module")
def analysis(face_root: Path) -> Any:
    from insightface.app import FaceAnalysis

    app = FaceAnalysis(name="buffalo_l", root=str(face_root),
                       allowed_modules=["detection", "recognition"],
                       providers=["CPUExecutionProvider"])
    app.prepare(ctx_id=-1, det_size=(640, 640))
    return app


@pytest.fixture(scope="module")
def recognizer(face_root: Path) -> FaceRecognizer:
    return FaceRecognizer(face_root, det_size=320, providers=["CPUExecutionProvider"], threads=1)


def scene(w: int = 1280, h: int = 720, seed: int = 0) -> np.ndarray:
    """Muted, textured background (no saturated yellow or blue)."""
    rng = np.random.default_rng(seed)
    return cv2.resize(rng.integers(40, 180, (9, 16, 3), dtype=np.uint8), (w, h))


def jpeg(img: np.ndarray, quality: int) -> np.ndarray:
    return cv2.imdecode(cv2.imencode(".jpg", img, [cv2.IMWRITE_JPEG_QUALITY, quality])[1], 1)


def test_insightface_routes_the_pack_as_scrfd_and_arcface(analysis: Any) -> None:
    det, rec = analysis.models["detection"], analysis.models["recognition"]
    assert type(det).__name__ == "SCRFD" and type(rec).__name__ == "ArcFaceONNX"
    assert (det.fmc, det._feat_stride_fpn, det._num_anchors, det.use_kps) == (
        3, [8, 16, 32], 2, True)
    assert rec.input_size == (112, 112) and rec.input_mean == 127.5


@pytest.mark.parametrize(
    ("size", "faces"),
    [
        ((1280, 720), [((300, 300), 40, 3), ((900, 420), 26, 5)]),
        ((1920, 1080), [((1500, 200), 60, 0)]),
        ((200, 320), [((100, 70), 30, 7)]),  # a person crop, upscaled by the detector
    ],
)
def test_drawn_faces_are_detected_with_their_boxes(
    analysis: Any, size: tuple[int, int], faces: list[tuple[tuple[int, int], int, int]]
) -> None:
    img = scene(*size)
    boxes = np.array([draw_face(img, c, r, ident) for c, r, ident in faces], np.float32)
    found = analysis.get(jpeg(img, 85))
    assert len(found) == len(faces)
    got = np.stack([f.bbox for f in found])
    iou = box_iou(boxes, got)
    assert (iou.max(1) > 0.85).all(), iou
    for f in found:
        x1, y1, x2, y2 = f.bbox
        assert f.det_score > 0.5 and f.kps.shape == (5, 2)
        assert ((f.kps >= [x1, y1]) & (f.kps <= [x2, y2])).all()


def test_same_pattern_embeds_alike_and_patterns_differ(analysis: Any) -> None:
    views = [((200, 200), 30, 95), ((700, 500), 64, 60), ((1050, 150), 22, 45)]
    emb: dict[tuple[int, int], np.ndarray] = {}
    for ident, (k, (centre, radius, quality)) in itertools.product(range(8), enumerate(views)):
        img = scene(seed=ident * 3 + k)
        draw_face(img, centre, radius, ident)
        (face,) = analysis.get(jpeg(img, quality))
        emb[ident, k] = face.normed_embedding
    same = [float(emb[i, a] @ emb[i, b]) for i in range(8) for a, b in [(0, 1), (0, 2), (1, 2)]]
    other = [float(emb[i, a] @ emb[j, b]) for i, j in itertools.combinations(range(8), 2)
             for a in range(3) for b in range(3)]
    assert min(same) > 0.9
    assert max(other) < 0.3


@pytest.mark.parametrize(
    "image",
    [
        "insightface/data/images/t1.jpg",
        "ultralytics/assets/bus.jpg",
        "ultralytics/assets/zidane.jpg",
        "square",
    ],
)
def test_no_faces_where_no_marker_is(analysis: Any, image: str) -> None:
    if image == "square":  # the face colours in a non-disc shape
        img = scene()
        cv2.rectangle(img, (300, 200), (400, 300), (0, 255, 255), -1)
        cv2.rectangle(img, (600, 200), (700, 300), (255, 0, 0), -1)
    else:
        import insightface

        site = Path(insightface.__file__).parent.parent
        img = cv2.imread(str(site / image))
        assert img is not None
    assert analysis.get(img) == []


def test_recognizer_returns_unit_embeddings_and_picks_the_largest(
    recognizer: FaceRecognizer,
) -> None:
    img = scene(640, 480)
    draw_face(img, (150, 150), 30, 1)
    big = draw_face(img, (450, 300), 70, 2)
    hits = recognizer.detect(img)
    assert len(hits) == 2
    for hit in hits:
        assert hit.embedding.shape == (512,) and hit.embedding.dtype == np.float32
        assert float(np.linalg.norm(hit.embedding)) == pytest.approx(1.0, abs=1e-5)
        assert 0.0 < hit.quality <= 1.0
    largest = recognizer.largest(img)
    assert largest is not None
    assert box_iou(np.array([big], np.float32), np.array([largest.bbox]))[0, 0] > 0.85
    assert recognizer.largest(scene(640, 480)) is None
    assert recognizer.device == "cpu" and recognizer.det_size == 320


def test_recognizer_refuses_bad_images(recognizer: FaceRecognizer) -> None:
    with pytest.raises(ValueError, match="uint8"):
        recognizer.detect(np.zeros((10, 10), np.uint8))


def test_missing_pack_is_unavailable_with_a_reason(tmp_path: Path) -> None:
    with pytest.raises(FaceUnavailable) as err:
        FaceRecognizer(tmp_path)
    assert f"no face models at {tmp_path / 'models' / 'buffalo_l'}" in err.value.reason
    assert "iris models pull" in err.value.reason
    assert load_face_recognizer(tmp_path) is None


@pytest.mark.parametrize("keep", [DET_FILE, REC_FILE])
def test_incomplete_pack_is_unavailable(face_root: Path, tmp_path: Path, keep: str) -> None:
    folder = tmp_path / "models" / "buffalo_l"
    folder.mkdir(parents=True)
    shutil.copy(face_root / "models" / "buffalo_l" / keep, folder / keep)
    with pytest.raises(FaceUnavailable, match="iris models pull"):
        FaceRecognizer(tmp_path, providers=["CPUExecutionProvider"])


def test_corrupt_pack_is_unavailable(tmp_path: Path) -> None:
    folder = tmp_path / "models" / "buffalo_l"
    folder.mkdir(parents=True)
    (folder / DET_FILE).write_bytes(os.urandom(64))
    with pytest.raises(FaceUnavailable, match="could not be loaded"):
        FaceRecognizer(tmp_path, providers=["CPUExecutionProvider"])


@pytest.mark.parametrize("det_size", [100, 330, 4096])
def test_det_size_must_be_a_multiple_of_32_in_range(face_root: Path, det_size: int) -> None:
    with pytest.raises(ValueError, match="multiple of 32"):
        FaceRecognizer(face_root, det_size=det_size)


def test_marker_faces_become_identities_across_cameras(
    recognizer: FaceRecognizer, tmp_path: Path
) -> None:
    """Recogniser -> IdentityCore: the same drawn face on two cameras is one identity."""
    from iris.db.engine import make_engine, session_scope
    from iris.db.tables import Camera
    from iris.identity import IdentityCore
    from iris.types import Observation

    engine = make_engine(f"sqlite:///{tmp_path / 'iris.db'}")
    with session_scope(engine) as s:
        s.add_all([Camera(name="A", rtsp_url="rtsp://a"), Camera(name="B", rtsp_url="rtsp://b")])
    core = IdentityCore(engine, tmp_path / "data")

    def sighting(camera: int, track: int, ident: int, radius: int, quality: int) -> int:
        crop = scene(240, 400, seed=camera * 10 + track)  # a person crop
        draw_face(crop, (120, 90), radius, ident)
        hit = recognizer.largest(jpeg(crop, quality))
        assert hit is not None
        return core.assign(Observation(
            camera_id=camera, track_id=track, ts=1000.0 * track, face_embedding=hit.embedding,
            face_quality=hit.quality,
        )).identity_id

    alice = sighting(1, 1, ident=3, radius=40, quality=90)
    assert sighting(2, 2, ident=3, radius=28, quality=60) == alice
    assert sighting(2, 3, ident=6, radius=36, quality=80) != alice
