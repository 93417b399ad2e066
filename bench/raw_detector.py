"""The benchmarks' own YOLO detector: a plain onnxruntime session, independent of Iris's backend.

Baselines must not be the code under test, so this is written here from onnxruntime's and
OpenCV's documented calls: a session with onnxruntime's defaults but for spinning off (as Iris
and DESIGN.md's field notes have it; spinning threads fight decode for 2 cores), the same
preprocessing as any YOLO export wants (BGR→RGB, /255, NCHW float32) and class-aware NMS with
OpenCV. The intra-op thread count is onnxruntime's own choice (one per core).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np


class RawDetector:
    """One onnxruntime session; `detect` takes one letterboxed BGR frame, returns kept indices."""

    def __init__(self, model: Path) -> None:
        import onnxruntime as ort

        options = ort.SessionOptions()
        options.add_session_config_entry("session.intra_op.allow_spinning", "0")
        self.session = ort.InferenceSession(str(model), options,
                                            providers=["CPUExecutionProvider"])
        self.input_name = self.session.get_inputs()[0].name

    def detect(self, frame: np.ndarray, conf: float = 0.25, iou: float = 0.45) -> np.ndarray:
        import cv2

        x = np.ascontiguousarray(frame[None, ..., ::-1].transpose(0, 3, 1, 2), np.float32)
        x /= 255.0
        out = self.session.run(None, {self.input_name: x})[0][0]  # (4 + classes, anchors)
        scores = out[4:].max(axis=0)
        keep = scores >= conf
        boxes, scores = out[:4, keep].T, scores[keep]
        classes = out[4:, keep].argmax(axis=0)
        xywh = np.column_stack([boxes[:, 0] - boxes[:, 2] / 2, boxes[:, 1] - boxes[:, 3] / 2,
                                boxes[:, 2], boxes[:, 3]])
        kept = cv2.dnn.NMSBoxesBatched(xywh.tolist(), scores.tolist(), classes.tolist(),
                                       conf, iou)
        return np.asarray(kept, np.int64).reshape(-1)


def letterbox(frame: np.ndarray, size: int) -> np.ndarray:
    """Scale the longer side to ``size`` and pad to a square with grey (114), as YOLO's own."""
    import cv2

    height, width = frame.shape[:2]
    scale = size / max(height, width)
    w, h = round(width * scale), round(height * scale)
    resized = cv2.resize(frame, (w, h), interpolation=cv2.INTER_LINEAR)
    top, left = (size - h) // 2, (size - w) // 2
    return cv2.copyMakeBorder(resized, top, size - h - top, left, size - w - left,
                              cv2.BORDER_CONSTANT, value=(114, 114, 114))
