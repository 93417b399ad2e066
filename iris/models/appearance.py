"""Appearance (re-ID) vectors for person and object crops, and vehicle colour names.

The default `HistogramAppearance` needs no weights: HSV histograms of the upper and lower halves
of the crop (clothing), square-rooted so that the inner product of two L2-normalised vectors is
their Bhattacharyya coefficient. It tells a red shirt from a blue one across cameras, not two
people dressed alike. An ONNX re-ID model (OSNet / fast-reid style) plugs in as `OnnxReid`.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

import cv2
import numpy as np

from iris.models.errors import ModelUnavailable
from iris.models.providers import choose_providers

log = logging.getLogger(__name__)

HUE_BINS, SAT_BINS, GREY_BINS = 16, 3, 8
PART_DIM = HUE_BINS * SAT_BINS + GREY_BINS
APPEARANCE_DIM = 2 * PART_DIM
"""Length of a `HistogramAppearance` vector (upper + lower body)."""
CHROMA_SAT, CHROMA_VAL = 48, 40
"""Pixels below this saturation or value (0-255) count as grey levels, not hues."""
PARTS = ((0.12, 0.52), (0.52, 0.95))
"""Rows (fractions of crop height) of the upper body (below the head) and the lower body."""
COLUMNS = (0.2, 0.8)
"""Columns (fractions of crop width) kept: the body, not the background beside it."""
WORK_SIZE = (64, 128)


class AppearanceUnavailable(ModelUnavailable):
    """A configured re-ID model cannot be loaded; the reason says why."""


@runtime_checkable
class AppearanceModel(Protocol):
    """Turns object crops into L2-normalised appearance vectors.

    Attributes:
        name: what produced the vectors (stored vectors of another model do not compare).
        dim: vector length.
    """

    name: str
    dim: int

    def embed(self, crops: Sequence[np.ndarray]) -> np.ndarray:
        """``(N, dim)`` float32 L2-normalised vectors for ``N`` BGR uint8 crops."""
        ...


def _normalise(rows: np.ndarray) -> np.ndarray:
    rows = np.asarray(rows, np.float32)
    norms = np.linalg.norm(rows, axis=-1, keepdims=True)
    return rows / np.maximum(norms, 1e-12)


def _part_histogram(hsv: np.ndarray) -> np.ndarray:
    h, s, v = (hsv[..., i].ravel().astype(np.int32) for i in range(3))
    chroma = (s >= CHROMA_SAT) & (v >= CHROMA_VAL)
    hue_bin = np.minimum(h * HUE_BINS // 180, HUE_BINS - 1)
    sat_bin = np.minimum((s - CHROMA_SAT) * SAT_BINS // (256 - CHROMA_SAT), SAT_BINS - 1)
    grey_bin = np.minimum(v * GREY_BINS // 256, GREY_BINS - 1)
    index = np.where(chroma, hue_bin * SAT_BINS + sat_bin, HUE_BINS * SAT_BINS + grey_bin)
    hist = np.bincount(index, minlength=PART_DIM).astype(np.float32)
    total = hist.sum()
    return np.sqrt(hist / total) if total > 0 else hist


def appearance_vector(crop_bgr: np.ndarray) -> np.ndarray:
    """The histogram descriptor of one BGR crop: ``(APPEARANCE_DIM,)`` float32, unit length.

    Raises:
        ValueError: not an ``H x W x 3`` uint8 image, or an empty one.
    """
    if crop_bgr.dtype != np.uint8 or crop_bgr.ndim != 3 or crop_bgr.shape[2] != 3:
        raise ValueError(f"crop must be H x W x 3 uint8 BGR, got {crop_bgr.dtype} {crop_bgr.shape}")
    if crop_bgr.shape[0] < 2 or crop_bgr.shape[1] < 1:
        raise ValueError(f"crop is too small: {crop_bgr.shape[1]}x{crop_bgr.shape[0]}")
    small = cv2.resize(crop_bgr, WORK_SIZE, interpolation=cv2.INTER_AREA)
    # A light blur keeps JPEG/H.264 block noise out of the saturation bins.
    hsv = cv2.cvtColor(cv2.GaussianBlur(small, (3, 3), 0), cv2.COLOR_BGR2HSV)
    height, width = hsv.shape[:2]
    body = hsv[:, int(COLUMNS[0] * width) : int(COLUMNS[1] * width)]
    parts = [_part_histogram(body[int(a * height) : int(b * height)]) for a, b in PARTS]
    return _normalise(np.concatenate(parts))


class HistogramAppearance:
    """The weights-free descriptor as an `AppearanceModel`."""

    name = "hsv-hist-v1"
    dim = APPEARANCE_DIM

    def embed(self, crops: Sequence[np.ndarray]) -> np.ndarray:
        """``(N, APPEARANCE_DIM)`` vectors; see `appearance_vector`."""
        if not crops:
            return np.empty((0, self.dim), np.float32)
        return np.stack([appearance_vector(c) for c in crops])


class OnnxReid:
    """A person re-ID network in ONNX (input ``(N, 3, H, W)`` RGB, ImageNet-normalised).

    Attributes:
        name: ``"onnx:<file name>"``.
        dim: output length, read from the model (or from one trial run when dynamic).
        input_size: ``(width, height)`` crops are resized to (default 128x256).
    """

    MEAN = np.array([0.485, 0.456, 0.406], np.float32).reshape(1, 3, 1, 1)
    STD = np.array([0.229, 0.224, 0.225], np.float32).reshape(1, 3, 1, 1)

    def __init__(
        self,
        path: Path | str,
        input_size: tuple[int, int] | None = None,
        providers: Sequence[str] | None = None,
    ) -> None:
        """Load the model.

        Raises:
            AppearanceUnavailable: the file is missing or onnxruntime cannot load it.
        """
        path = Path(path)
        if not path.is_file():
            raise AppearanceUnavailable(f"no re-ID model at {path}")
        import onnxruntime

        try:
            self._session: Any = onnxruntime.InferenceSession(
                str(path),
                providers=choose_providers(onnxruntime.get_available_providers(), providers),
            )
        except Exception as exc:  # noqa: BLE001 - surfaced with the file name
            raise AppearanceUnavailable(f"re-ID model {path} could not be loaded: {exc}") from exc
        meta = self._session.get_inputs()[0]
        self._input = meta.name
        shape = list(meta.shape)
        fixed = [d if isinstance(d, int) else None for d in shape[2:4]]
        if input_size is None:
            input_size = (fixed[1] or 128, fixed[0] or 256)
        self.input_size = input_size
        self._batched = not isinstance(shape[0], int) or shape[0] != 1
        self.name = f"onnx:{path.name}"
        out_dim = self._session.get_outputs()[0].shape[-1]
        self.dim = out_dim if isinstance(out_dim, int) else self._trial_dim()

    def _trial_dim(self) -> int:
        blank = np.zeros((self.input_size[1], self.input_size[0], 3), np.uint8)
        return int(self._run([blank]).shape[1])

    def _run(self, crops: Sequence[np.ndarray]) -> np.ndarray:
        w, h = self.input_size
        batch = np.stack(
            [cv2.cvtColor(cv2.resize(c, (w, h)), cv2.COLOR_BGR2RGB) for c in crops]
        ).astype(np.float32)
        blob = (batch.transpose(0, 3, 1, 2) / 255.0 - self.MEAN) / self.STD
        if self._batched:
            out = self._session.run(None, {self._input: blob})[0]
        else:
            out = np.concatenate([self._session.run(None, {self._input: b[None]})[0] for b in blob])
        return np.asarray(out, np.float32).reshape(len(crops), -1)

    def embed(self, crops: Sequence[np.ndarray]) -> np.ndarray:
        """``(N, dim)`` float32 L2-normalised vectors."""
        if not crops:
            return np.empty((0, self.dim), np.float32)
        return _normalise(self._run(crops))


def load_appearance(path: Path | str | None = None) -> AppearanceModel:
    """The configured appearance model: `OnnxReid` for a path, histograms for ``None``.

    Raises:
        AppearanceUnavailable: a path was configured but cannot be loaded (no silent
            fallback: vectors of different models must never share a gallery).
    """
    if path is None or str(path) == "":
        return HistogramAppearance()
    return OnnxReid(path)


# ----------------------------------------------------------------------------- vehicle colour
VEHICLE_COLOURS: dict[str, str] = {
    "black": "#1e1e1e", "white": "#f0f0f0", "gray": "#808080", "silver": "#c0c0c0",
    "red": "#c81e1e", "orange": "#e67819", "yellow": "#e6d21e", "green": "#2d9b3c",
    "blue": "#1e50c8", "purple": "#7828a0", "brown": "#785028",
}
"""Colour names `vehicle_color` answers with, and a nominal swatch for each."""


def _colour_names(hsv: np.ndarray) -> np.ndarray:
    h, s, v = (hsv[..., i].astype(np.int32) for i in range(3))
    names = np.full(h.shape, "gray", dtype=object)
    grey = s < 50
    names[grey & (v >= 200)] = "white"
    names[grey & (v >= 140) & (v < 200)] = "silver"
    hue_names = np.select(
        [(h < 8) | (h >= 170), h < 20, h < 34, h < 85, h < 130],
        ["red", "orange", "yellow", "green", "blue"],
        default="purple",
    )
    chroma = ~grey
    names[chroma] = hue_names[chroma]
    names[chroma & (names == "orange") & (v < 150)] = "brown"
    names[v < 50] = "black"
    return names


def vehicle_color(crop_bgr: np.ndarray) -> tuple[str, str]:
    """Dominant colour of a vehicle crop as ``(name, "#rrggbb")``.

    The centre of the crop (where the body panels are, away from road and sky) votes; the hex
    is the mean colour of the winning pixels, so two red cars of different shades differ.

    Raises:
        ValueError: not an ``H x W x 3`` uint8 image.
    """
    if crop_bgr.dtype != np.uint8 or crop_bgr.ndim != 3 or crop_bgr.shape[2] != 3:
        raise ValueError(f"crop must be H x W x 3 uint8 BGR, got {crop_bgr.dtype} {crop_bgr.shape}")
    h, w = crop_bgr.shape[:2]
    centre = crop_bgr[int(h * 0.2) : max(int(h * 0.8), 1), int(w * 0.15) : max(int(w * 0.85), 1)]
    small = cv2.resize(centre, (48, 32), interpolation=cv2.INTER_AREA)
    small = cv2.GaussianBlur(small, (3, 3), 0)
    names = _colour_names(cv2.cvtColor(small, cv2.COLOR_BGR2HSV))
    values, counts = np.unique(names, return_counts=True)
    winner = str(values[int(np.argmax(counts))])
    b, g, r = small[names == winner].reshape(-1, 3).mean(0)
    return winner, f"#{int(r):02x}{int(g):02x}{int(b):02x}"
