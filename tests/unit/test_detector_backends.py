"""Detector backends on the stand-in ONNX model: the same loading and decoding as real weights."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest

from iris.models.detectors import DetectorBackend, DetectorUnavailable, load_backend
from iris.models.detectors.onnx import parse_names
from iris.models.letterbox import letterbox
from iris.models.providers import choose_providers
from iris.models.standins import build_benchmark_detector, build_standin_detector, draw_marker
from iris.types import Detections, box_iou

COCO_PERSON, COCO_CAR = 0, 2
MARKED = {  # kind -> box on a 1280x720 frame
    "person": (100, 200, 300, 600),
    "person-2": (1100, 100, 1200, 300),
    "car": (700, 300, 1000, 450),
}
CLASS_OF = {"person": COCO_PERSON, "person-2": COCO_PERSON, "car": COCO_CAR}


@pytest.fixture(scope="module")
def standin(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_standin_detector(tmp_path_factory.mktemp("models") / "standin.onnx", imgsz=320)


@pytest.fixture(scope="module")
def backends(standin: Path) -> dict[tuple[str, int], DetectorBackend]:
    """Each backend loaded once per size: loading ultralytics costs seconds."""
    return {
        (k, s): load_backend(k, standin, s) for k in ("onnx", "ultralytics") for s in (320, 640)
    }


def street(seed: int = 0) -> np.ndarray:
    """A textured, muted-colour background (real scenes hold no large saturated magenta)."""
    rng = np.random.default_rng(seed)
    small = rng.integers(30, 190, (18, 32, 3), dtype=np.uint8)
    return cv2.resize(small, (1280, 720), interpolation=cv2.INTER_LINEAR)


def marked(kinds: list[str], seed: int = 0) -> np.ndarray:
    frame = street(seed)
    for kind in kinds:
        draw_marker(frame, MARKED[kind], kind)
    return frame


def found(dets: Detections, kind: str) -> float:
    """Best IoU of a detection of the right class with the drawn marker."""
    same = dets[dets.class_id == CLASS_OF[kind]]
    if len(same) == 0:
        return 0.0
    return float(box_iou(same.xyxy, np.array([MARKED[kind]], np.float32)).max())


@pytest.mark.parametrize("kind", ["onnx", "ultralytics"])
@pytest.mark.parametrize("imgsz", [320, 640])
def test_markers_are_found_with_class_and_box(
    backends: dict[tuple[str, int], DetectorBackend], kind: str, imgsz: int
) -> None:
    backend = backends[(kind, imgsz)]
    assert isinstance(backend, DetectorBackend)
    assert backend.imgsz == imgsz and backend.device == "cpu"
    frame = marked(list(MARKED))
    image, lb = letterbox(frame, imgsz)
    (dets,) = backend.detect([image], conf=0.25, iou=0.45)
    dets = dets.from_letterbox(lb)
    assert len(dets) == 3
    assert sorted(dets.labels(backend.names)) == ["car", "person", "person"]
    for marker in MARKED:
        assert found(dets, marker) > 0.9, marker
    assert dets.confidence == pytest.approx([0.9] * 3, abs=0.01)


@pytest.mark.parametrize("kind", ["onnx", "ultralytics"])
def test_a_batch_gives_one_result_per_frame_in_order(
    backends: dict[tuple[str, int], DetectorBackend], kind: str
) -> None:
    backend = backends[(kind, 320)]
    frames = [marked(["person"]), marked([]), marked(["car"], seed=1), marked(["person", "car"])]
    boxed = [letterbox(f, 320) for f in frames]
    results = backend.detect([img for img, _ in boxed])
    labels = [sorted(d.labels(backend.names)) for d in results]
    assert labels == [["person"], [], ["car"], ["car", "person"]]
    assert found(results[0].from_letterbox(boxed[0][1]), "person") > 0.9
    assert backend.detect([]) == []


def test_markers_survive_lossy_compression(
    backends: dict[tuple[str, int], DetectorBackend],
) -> None:
    ok, buf = cv2.imencode(".jpg", marked(list(MARKED)), [cv2.IMWRITE_JPEG_QUALITY, 40])
    assert ok
    decoded = cv2.imdecode(buf, cv2.IMREAD_COLOR)
    assert decoded is not None
    image, lb = letterbox(decoded, 640)
    (dets,) = backends[("onnx", 640)].detect([image])
    for marker in MARKED:
        assert found(dets.from_letterbox(lb), marker) > 0.85, marker


def test_natural_images_have_no_markers_until_drawn(
    backends: dict[tuple[str, int], DetectorBackend],
) -> None:
    import ultralytics

    assets = Path(ultralytics.__file__).parent / "assets"
    photos = [cv2.imread(str(assets / n)) for n in ("bus.jpg", "zidane.jpg")]
    assert photos[0] is not None and photos[1] is not None
    images = [letterbox(p, 640)[0] for p in photos if p is not None]
    assert [len(d) for d in backends[("onnx", 640)].detect(images)] == [0, 0]
    bus: np.ndarray = cv2.resize(photos[0], (1280, 720))
    for kind in MARKED:
        draw_marker(bus, MARKED[kind], kind)
    image, lb = letterbox(bus, 640)
    (dets,) = backends[("onnx", 640)].detect([image])
    assert len(dets) == 3
    for kind in MARKED:
        assert found(dets.from_letterbox(lb), kind) > 0.9, kind


def test_static_export_loops_over_the_batch_and_fixes_imgsz(tmp_path: Path) -> None:
    path = build_standin_detector(tmp_path / "static.onnx", imgsz=320, dynamic=False)
    backend = load_backend("onnx", path, imgsz=640)
    assert backend.imgsz == 320  # the model's fixed input wins over the request
    assert not backend.dynamic_batch  # type: ignore[attr-defined]
    frames = [letterbox(marked(["person"]), 320)[0], letterbox(marked(["car"]), 320)[0]]
    assert [d.labels(backend.names) for d in backend.detect(frames)] == [["person"], ["car"]]


@pytest.mark.parametrize("kind", ["onnx", "ultralytics"])
@pytest.mark.parametrize(
    ("frames", "kwargs", "message"),
    [
        ([np.zeros((640, 640, 3), np.uint8)], {}, r"frame 0 is uint8 \(640, 640, 3\)"),
        ([np.zeros((320, 320, 3), np.uint8), np.zeros((320, 320), np.uint8)], {}, "frame 1"),
        ([np.zeros((320, 320, 3), np.float32)], {}, "frame 0 is float32"),
        ([np.zeros((320, 320, 3), np.uint8)], {"conf": 2.0}, "must lie in"),
        ([np.zeros((320, 320, 3), np.uint8)], {"iou": -1.0}, "must lie in"),
    ],
)
def test_bad_frames_and_thresholds_are_rejected(
    backends: dict[tuple[str, int], DetectorBackend],
    kind: str,
    frames: list[np.ndarray],
    kwargs: dict[str, float],
    message: str,
) -> None:
    with pytest.raises(ValueError, match=message):
        backends[(kind, 320)].detect(frames, **kwargs)


def _write(path: Path, data: bytes) -> Path:
    path.write_bytes(data)
    return path


@pytest.mark.parametrize(
    ("kind", "name", "content", "error", "message"),
    [
        ("tensorrt", "m.onnx", b"x", ValueError, "unknown detector backend 'tensorrt'"),
        (
            "onnx",
            "yolo11n.onnx",
            None,
            DetectorUnavailable,
            "no detector weights at .*yolo11n.onnx",
        ),
        ("ultralytics", "yolo11n.pt", None, DetectorUnavailable, "run `iris models pull`"),
        ("onnx", "yolo11n.pt", b"x", DetectorUnavailable, "needs a .onnx file"),
        ("ultralytics", "model.tflite", b"x", DetectorUnavailable, "loads .pt, .onnx, .engine"),
        ("onnx", "broken.onnx", b"not a model", DetectorUnavailable, "cannot load detector"),
        ("ultralytics", "broken.onnx", b"not a model", DetectorUnavailable, "not a loadable"),
        ("ultralytics", "broken.pt", b"not a model", DetectorUnavailable, "cannot load"),
    ],
)
def test_unusable_weights_say_why(
    tmp_path: Path,
    kind: str,
    name: str,
    content: bytes | None,
    error: type[Exception],
    message: str,
) -> None:
    path = tmp_path / name
    if content is not None:
        path.write_bytes(content)
    with pytest.raises(error, match=message) as info:
        load_backend(kind, path, 320)
    if isinstance(info.value, DetectorUnavailable):
        assert info.value.reason == str(info.value)


def test_a_model_that_is_not_a_detector_is_unavailable(tmp_path: Path) -> None:
    import torch

    path = tmp_path / "classifier.onnx"
    torch.onnx.export(
        torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(3 * 8 * 8, 10)).eval(),
        (torch.zeros(1, 3 * 8 * 8),),
        str(path),
        opset_version=13,
        dynamo=False,
    )
    with pytest.raises(DetectorUnavailable, match="not an image detector"):
        load_backend("onnx", path, 320)


@pytest.mark.parametrize("imgsz", [0, -32, 300])
def test_imgsz_must_be_a_multiple_of_32(standin: Path, imgsz: int) -> None:
    with pytest.raises(ValueError, match="multiple of 32"):
        load_backend("onnx", standin, imgsz)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("{0: 'person', 2: 'car', 1: 'bicycle'}", ["person", "bicycle", "car"]),
        ("['a', 'b']", ["a", "b"]),
        (None, None),
        ("{broken", None),
        ("42", None),
    ],
)
def test_class_names_from_metadata(raw: str | None, expected: list[str] | None) -> None:
    names = parse_names(raw)
    if expected is None:
        assert len(names) == 80 and names[0] == "person" and names[79] == "toothbrush"
    else:
        assert names == expected


@pytest.mark.parametrize(
    ("available", "preferred", "expected"),
    [
        (["CPUExecutionProvider"], None, ["CPUExecutionProvider"]),
        (
            ["TensorrtExecutionProvider", "CUDAExecutionProvider", "CPUExecutionProvider"],
            None,
            ["CUDAExecutionProvider", "CPUExecutionProvider"],
        ),
        (
            ["TensorrtExecutionProvider", "CUDAExecutionProvider", "CPUExecutionProvider"],
            ["TensorrtExecutionProvider", "CUDAExecutionProvider"],
            ["TensorrtExecutionProvider", "CUDAExecutionProvider", "CPUExecutionProvider"],
        ),
        (["CPUExecutionProvider"], ["CUDAExecutionProvider"], ["CPUExecutionProvider"]),
    ],
)
def test_provider_choice(
    available: list[str], preferred: list[str] | None, expected: list[str]
) -> None:
    assert choose_providers(available, preferred) == expected


def test_onnx_backend_reports_what_onnxruntime_uses(
    backends: dict[tuple[str, int], DetectorBackend],
) -> None:
    backend = backends[("onnx", 320)]
    assert backend.providers[-1] == "CPUExecutionProvider"
    assert backend.names[:3] == ["person", "bicycle", "car"]


def test_benchmark_model_builds_offline_and_runs(tmp_path: Path) -> None:
    path = build_benchmark_detector(tmp_path / "yolo11n.onnx", imgsz=320)
    assert path.is_file() and path.stat().st_size > 5_000_000  # the real architecture's size
    assert not list(Path.cwd().glob("yolo11n.onnx"))  # nothing written beside the caller
    backend = load_backend("onnx", path, 320)
    assert backend.names[0] == "person"
    results = backend.detect([np.full((320, 320, 3), 114, np.uint8)] * 2, conf=0.0)
    assert len(results) == 2 and all(len(r) > 0 for r in results)


def test_torchvision_imports_and_its_nms_runs() -> None:
    from iris.models.torchvision_shim import install_torchvision_nms, pure_torch_nms
    from iris.models.yolo_decode import nms

    install_torchvision_nms()
    assert isinstance(install_torchvision_nms(), bool)  # idempotent
    import torch
    import torchvision

    rng = np.random.default_rng(0)
    xy = rng.uniform(0, 300, (200, 2))
    boxes = np.concatenate([xy, xy + rng.uniform(5, 60, (200, 2))], 1).astype(np.float32)
    scores = rng.uniform(0, 1, 200).astype(np.float32)
    theirs = torchvision.ops.nms(torch.from_numpy(boxes), torch.from_numpy(scores), 0.5)
    assert theirs.tolist() == nms(boxes, scores, 0.5).tolist()
    empty = pure_torch_nms(torch.zeros(0, 4), torch.zeros(0), 0.5)
    assert empty.dtype == torch.int64 and empty.numel() == 0
