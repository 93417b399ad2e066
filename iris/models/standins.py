"""Stand-in models: small ONNX files built offline for tests and benchmarks.

`build_standin_detector` exports a tiny torch module in the exact raw YOLO format
``(B, 4 + 80, N)`` that "detects" solid marker rectangles drawn with `draw_marker`: every
palette colour is one candidate whose box is the extent of that colour and whose score is 0.9
for its class (0 when absent). It runs through the same backends and decoding as real weights.

`build_benchmark_detector` exports ``YOLO("yolo11n.yaml")`` with random weights: the real
architecture and cost, meaningless detections.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import cv2
import numpy as np

from iris.models.coco import COCO_NAMES, coco_names_dict

if TYPE_CHECKING:
    import torch

MARKERS: dict[str, tuple[int, tuple[int, int, int]]] = {
    "person": (0, (255, 0, 255)),  # magenta
    "person-2": (0, (255, 0, 128)),  # violet: a second person in the same frame
    "car": (2, (255, 255, 0)),  # cyan
    "car-2": (2, (128, 255, 0)),  # spring green: a second car
}
"""Marker kind -> (COCO class id, BGR colour). Colours differ by >= 127 in some channel."""

COLOUR_TOLERANCE = 48
"""Per-channel distance (0-255) within which a pixel counts as a marker colour; survives
JPEG/H.264 chroma noise."""
MIN_MARKER_PIXELS = 16
"""Fewer matching pixels than this (at the model input) is no detection."""
MIN_FILL = 0.5
"""A marker must fill at least this fraction of its box (rejects scattered look-alike pixels)."""
STANDIN_SCORE = 0.9


def draw_marker(
    img: np.ndarray, box: tuple[int, int, int, int], kind: str = "person"
) -> np.ndarray:
    """Draw a solid marker rectangle in place and return the image.

    Args:
        img: BGR uint8 frame.
        box: ``(x1, y1, x2, y2)``, exclusive of ``x2``/``y2``; the stand-in reports this box.
        kind: a key of `MARKERS` (``person``, ``person-2``, ``car``, ``car-2``).

    Raises:
        ValueError: an unknown kind.
    """
    if kind not in MARKERS:
        raise ValueError(f"unknown marker kind {kind!r}; expected one of {sorted(MARKERS)}")
    x1, y1, x2, y2 = box
    cv2.rectangle(img, (x1, y1), (x2 - 1, y2 - 1), MARKERS[kind][1], thickness=-1)
    return img


def _standin_module() -> torch.nn.Module:
    import torch

    kinds = list(MARKERS.values())
    rgb = torch.tensor([[c[2], c[1], c[0]] for _, c in kinds], dtype=torch.float32) / 255.0
    onehot = torch.zeros(len(COCO_NAMES), len(kinds))
    for k, (cls, _) in enumerate(kinds):
        onehot[cls, k] = 1.0

    class MarkerDetector(torch.nn.Module):
        """RGB [0, 1] images (B, 3, H, W) -> raw YOLO output (B, 84, len(MARKERS))."""

        colours: torch.Tensor
        onehot: torch.Tensor

        def __init__(self) -> None:
            super().__init__()
            self.register_buffer("colours", rgb)
            self.register_buffer("onehot", onehot)

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            # One mask per marker colour; loops over the 4 colours unroll in the ONNX graph.
            masks = torch.stack(
                [
                    ((x - self.colours[k].view(1, 3, 1, 1)).abs().amax(1) < COLOUR_TOLERANCE / 255)
                    for k in range(self.colours.shape[0])
                ],
                dim=1,
            ).float()  # (B, K, H, W)
            rows, cols = masks.sum(3), masks.sum(2)  # (B, K, H), (B, K, W)
            y1, y2 = self._extent(rows)
            x1, x2 = self._extent(cols)
            count = masks.sum((2, 3))
            area = ((x2 - x1) * (y2 - y1)).clamp(min=1.0)
            valid = ((count >= MIN_MARKER_PIXELS) & (count / area >= MIN_FILL)).float()
            boxes = torch.stack([(x1 + x2) / 2, (y1 + y2) / 2, x2 - x1, y2 - y1], 1)
            scores = self.onehot.unsqueeze(0) * (valid * STANDIN_SCORE).unsqueeze(1)
            return torch.cat([boxes * valid.unsqueeze(1), scores], 1)

        @staticmethod
        def _extent(profile: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
            # The marker spans the run of rows (or columns) around the peak count that hold at
            # least half the peak; look-alike pixels elsewhere (compression noise, a similar
            # colour in the scene) form other, weaker runs and are ignored.
            peak = profile.amax(-1, keepdim=True)
            on = ((profile >= peak * 0.5) & (profile > 0)).float()
            before = torch.cat([torch.zeros_like(on[..., :1]), on[..., :-1]], -1)
            run = torch.cumsum(on * (1 - before), -1) * on  # 1, 2, ... per run; 0 when off
            peak_run = torch.gather(run, -1, profile.argmax(-1, keepdim=True))
            on = (run == peak_run) & (on > 0)
            idx = torch.cumsum(torch.ones_like(profile), -1) - 1  # shape-agnostic arange
            lo = torch.where(on, idx, torch.full_like(idx, 1e9)).amin(-1)
            hi = torch.where(on, idx + 1, torch.zeros_like(idx)).amax(-1)
            return lo * (hi > 0), hi

    return MarkerDetector().eval()


def _write_metadata(path: Path, meta: dict[str, str]) -> None:
    import onnx

    model = onnx.load(str(path))
    for key, value in meta.items():
        entry = model.metadata_props.add()
        entry.key, entry.value = key, value
    onnx.save(model, str(path))


def build_standin_detector(path: Path | str, imgsz: int = 320, dynamic: bool = True) -> Path:
    """Export the marker stand-in detector to ``path`` (ONNX, opset 13).

    With ``dynamic`` (the default) batch, height and width are dynamic axes, so any letterbox
    size works (320 and 640 are tested) and ``imgsz`` only sets the ``imgsz`` metadata.
    Without it the input is fixed at ``(1, 3, imgsz, imgsz)``, like a static export.
    Metadata follows ultralytics' keys (``names``, ``imgsz``, ``stride``, ``task``, ``args``)
    so ``YOLO(path, task="detect")`` loads it too.

    Returns:
        ``path``.
    """
    import torch

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    example = torch.zeros(1, 3, imgsz, imgsz)
    torch.onnx.export(
        _standin_module(),
        (example,),
        str(path),
        input_names=["images"],
        output_names=["output0"],
        dynamic_axes=(
            {"images": {0: "batch", 2: "height", 3: "width"}, "output0": {0: "batch"}}
            if dynamic
            else None
        ),
        opset_version=13,
        dynamo=False,
    )
    args = {"batch": 1, "dynamic": dynamic, "half": False, "nms": False, "imgsz": [imgsz, imgsz]}
    _write_metadata(
        path,
        {
            "description": "Iris stand-in detector (solid marker colours -> COCO classes)",
            "author": "Iris",
            "task": "detect",
            "stride": "32",
            "batch": "1",
            "channels": "3",
            "imgsz": str([imgsz, imgsz]),
            "names": str(coco_names_dict()),
            "args": str(args),
            "end2end": "False",
        },
    )
    return path


def build_benchmark_detector(
    path: Path | str, imgsz: int = 320, arch: str = "yolo11n.yaml", dynamic: bool = True
) -> Path:
    """Export a real YOLO architecture with random weights to ONNX, offline.

    The graph costs what the trained model costs, so it serves throughput benchmarks; its
    detections are noise. COCO names are written so labels look like a real export.

    Args:
        path: target ``.onnx`` file.
        imgsz: export input size (the nominal size when ``dynamic``).
        arch: an ultralytics model config such as ``yolo11n.yaml`` (shipped in the package).
        dynamic: export dynamic batch and spatial axes.

    Returns:
        ``path``.
    """
    from iris.models.detectors.ultralytics import prepare_ultralytics

    prepare_ultralytics()
    import torch
    from ultralytics import YOLO

    path = Path(path).with_suffix(".onnx")
    path.parent.mkdir(parents=True, exist_ok=True)
    torch.manual_seed(0)
    model: Any = YOLO(arch, task="detect")
    model.model.names = coco_names_dict()
    # The exporter names its output after the source file; a .yaml-built model has none on
    # disk, so point it at the target to keep the export out of the working directory.
    model.model.pt_path = str(path.with_suffix(".pt"))
    exported = Path(
        model.export(format="onnx", imgsz=imgsz, dynamic=dynamic, simplify=False, verbose=False)
    )
    if exported.resolve() != path.resolve():
        exported.replace(path)
    return path
