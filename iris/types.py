"""Shared value types that every pipeline stage passes along.

`Detections` is the one type that detector backends produce and the tracker, recorder and
identity code consume: parallel numpy arrays, validated once, cheap to slice and to ship through
the Ray object store. `Track` and `Observation` are the small immutable records built from it.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Protocol

import numpy as np
import numpy.typing as npt

Box = tuple[float, float, float, float]
"""An axis-aligned box ``(x1, y1, x2, y2)`` in pixels."""


class BoxTransform(Protocol):
    """Anything that maps boxes from a model's input frame back to the source frame."""

    def to_source(self, xyxy: npt.NDArray[np.float32]) -> npt.NDArray[np.float32]:
        """Map ``(N, 4)`` boxes from input coordinates to source-frame coordinates."""
        ...


def _as_array(value: object, dtype: type[np.generic], name: str) -> np.ndarray:
    try:
        return np.ascontiguousarray(value, dtype=dtype)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"Detections.{name} is not convertible to {dtype.__name__}") from exc


@dataclass
class Detections:
    """Boxes found in one frame, as parallel arrays (supervision-style).

    Attributes:
        xyxy: ``(N, 4)`` float32 boxes ``x1, y1, x2, y2`` in pixels.
        confidence: ``(N,)`` float32 scores in ``[0, 1]``.
        class_id: ``(N,)`` int32 indices into the producing model's class names.
        tracker_id: ``(N,)`` int64 track ids once a tracker has run, else ``None``.

    Any array-like input is converted to those dtypes (so lists and float64 arrays are fine);
    shapes are validated, so a mismatch fails where the detections are made rather than three
    stages later.
    """

    xyxy: np.ndarray
    confidence: np.ndarray
    class_id: np.ndarray
    tracker_id: np.ndarray | None = field(default=None)

    def __post_init__(self) -> None:
        self.xyxy = _as_array(self.xyxy, np.float32, "xyxy")
        if self.xyxy.size == 0:
            self.xyxy = self.xyxy.reshape(0, 4)
        if self.xyxy.ndim != 2 or self.xyxy.shape[1] != 4:
            raise ValueError(f"Detections.xyxy must have shape (N, 4), got {self.xyxy.shape}")
        n = self.xyxy.shape[0]
        self.confidence = _as_array(self.confidence, np.float32, "confidence")
        self.class_id = _as_array(self.class_id, np.int32, "class_id")
        arrays: dict[str, np.ndarray] = {"confidence": self.confidence, "class_id": self.class_id}
        if self.tracker_id is not None:
            self.tracker_id = _as_array(self.tracker_id, np.int64, "tracker_id")
            arrays["tracker_id"] = self.tracker_id
        for name, arr in arrays.items():
            if arr.shape != (n,):
                raise ValueError(f"Detections.{name} must have shape ({n},), got {arr.shape}")

    @classmethod
    def empty(cls) -> Detections:
        """Return detections with no boxes."""
        return cls(
            xyxy=np.empty((0, 4), np.float32),
            confidence=np.empty((0,), np.float32),
            class_id=np.empty((0,), np.int32),
        )

    @classmethod
    def merge(cls, parts: Sequence[Detections]) -> Detections:
        """Concatenate several detections; tracker ids survive only if all parts have them."""
        if not parts:
            return cls.empty()
        with_ids = all(p.tracker_id is not None for p in parts)
        return cls(
            xyxy=np.concatenate([p.xyxy for p in parts]),
            confidence=np.concatenate([p.confidence for p in parts]),
            class_id=np.concatenate([p.class_id for p in parts]),
            tracker_id=(
                np.concatenate([p.tracker_id for p in parts if p.tracker_id is not None])
                if with_ids
                else None
            ),
        )

    def __len__(self) -> int:
        return int(self.xyxy.shape[0])

    def __iter__(self) -> Iterator[Detections]:
        """Yield one single-box `Detections` per row."""
        for i in range(len(self)):
            yield self[i]

    def __getitem__(
        self, index: int | slice | Sequence[int] | Sequence[bool] | np.ndarray
    ) -> Detections:
        """Select rows by int, slice, index array or boolean mask; always returns `Detections`.

        Raises:
            IndexError: a boolean mask whose length differs from ``len(self)``.
        """
        if isinstance(index, int | np.integer):
            index = [int(index)]
        if not isinstance(index, slice):
            index = np.asarray(index)
            if index.dtype == bool and index.shape != (len(self),):
                raise IndexError(f"boolean mask of shape {index.shape} for {len(self)} detections")
            if index.size == 0:
                index = index.astype(np.int64)
        return Detections(
            xyxy=self.xyxy[index],
            confidence=self.confidence[index],
            class_id=self.class_id[index],
            tracker_id=None if self.tracker_id is None else self.tracker_id[index],
        )

    def labels(self, names: Sequence[str]) -> list[str]:
        """Return the class name of every box; ids outside ``names`` read as ``"class<id>"``."""
        return [names[c] if 0 <= c < len(names) else f"class{c}" for c in self.class_id.tolist()]

    def with_classes(self, class_ids: Sequence[int]) -> Detections:
        """Keep only boxes whose class is one of ``class_ids``."""
        return self[np.isin(self.class_id, np.asarray(class_ids, np.int32))]

    @property
    def area(self) -> npt.NDArray[np.float32]:
        """``(N,)`` box areas in square pixels."""
        wh = np.clip(self.xyxy[:, 2:] - self.xyxy[:, :2], 0, None)
        return wh[:, 0] * wh[:, 1]

    def scale(
        self,
        factor: float | tuple[float, float],
        pad: tuple[float, float] = (0.0, 0.0),
        clip_to: tuple[int, int] | None = None,
    ) -> Detections:
        """Map boxes from a resized, padded frame back: ``(xy - pad) / factor``.

        Args:
            factor: resize factor that was applied (one for both axes, or ``(fx, fy)``).
            pad: ``(pad_x, pad_y)`` pixels added on the left and top.
            clip_to: ``(width, height)`` of the target frame to clip boxes into.
        """
        fx, fy = (factor, factor) if isinstance(factor, int | float) else factor
        if fx <= 0 or fy <= 0:
            raise ValueError(f"scale factor must be positive, got {factor}")
        off = np.array([pad[0], pad[1], pad[0], pad[1]], np.float32)
        div = np.array([fx, fy, fx, fy], np.float32)
        xyxy = (self.xyxy - off) / div
        if clip_to is not None:
            w, h = clip_to
            xyxy = np.clip(xyxy, 0, np.array([w, h, w, h], np.float32))
        return self._replace_boxes(xyxy)

    def from_letterbox(self, transform: BoxTransform) -> Detections:
        """Map boxes from a letterboxed model input back to the source frame.

        Args:
            transform: the `iris.models.letterbox.Letterbox` returned with the resized frame.
        """
        return self._replace_boxes(transform.to_source(self.xyxy))

    def _replace_boxes(self, xyxy: np.ndarray) -> Detections:
        return Detections(
            xyxy=xyxy,
            confidence=self.confidence.copy(),
            class_id=self.class_id.copy(),
            tracker_id=None if self.tracker_id is None else self.tracker_id.copy(),
        )


def box_iou(a: np.ndarray, b: np.ndarray) -> npt.NDArray[np.float32]:
    """Pairwise IoU of ``(N, 4)`` and ``(M, 4)`` xyxy boxes as an ``(N, M)`` matrix."""
    a = np.asarray(a, np.float32).reshape(-1, 4)
    b = np.asarray(b, np.float32).reshape(-1, 4)
    lt = np.maximum(a[:, None, :2], b[None, :, :2])
    rb = np.minimum(a[:, None, 2:], b[None, :, 2:])
    wh = np.clip(rb - lt, 0, None)
    inter = wh[..., 0] * wh[..., 1]
    area_a = np.prod(np.clip(a[:, 2:] - a[:, :2], 0, None), axis=1)
    area_b = np.prod(np.clip(b[:, 2:] - b[:, :2], 0, None), axis=1)
    union = area_a[:, None] + area_b[None, :] - inter
    return np.where(union > 0, inter / np.maximum(union, 1e-9), 0.0).astype(np.float32)


@dataclass(frozen=True)
class Track:
    """One tracked object as the recorder and identity layer see it.

    Attributes:
        track_id: id stable for the object's life on one camera.
        label: class name, e.g. ``"person"``.
        box: latest box in source-frame pixels.
        score: latest detection confidence.
        first_seen: wall-clock seconds (epoch) of the first confirmed detection.
        last_seen: wall-clock seconds (epoch) of the latest matched detection.
    """

    track_id: int
    label: str
    box: Box
    score: float
    first_seen: float
    last_seen: float


@dataclass(frozen=True, eq=False)
class Observation:
    """One tracked object seen on one camera, as the camera sends it to the identity layer.

    The identity layer files it under an identity as a stored sighting
    (`iris.db.tables.Sighting`); observations with the same ``(camera_id, track_id)`` close in
    time extend that one sighting.

    Attributes:
        camera_id: database id of the camera.
        track_id: camera-local track id.
        ts: wall-clock seconds (epoch) of the first frame observed.
        end_ts: wall-clock seconds of the last frame observed (``None``: same as ``ts``).
        label: detector class name; it is the identity's object class.
        box: box in source-frame pixels.
        face_embedding: L2-normalised face vector (ArcFace 512-d), or ``None``.
        appearance: appearance (re-ID) vector of the gallery's dimension, or ``None``.
        quality: body-crop quality in ``[0, 1]`` (size, sharpness, face score); higher is better.
        face_quality: face quality in ``[0, 1]``; ``None`` means ``quality``.
        crop_jpeg: body crop JPEG (becomes the sighting thumbnail), or ``None``.
        face_jpeg: face crop JPEG (becomes a face sample), or ``None``.
        event_id: the recording this track belongs to, if any.
        color: vehicle colour name; computed from ``crop_jpeg`` when ``None``.
        color_hex: vehicle colour ``#rrggbb``.
    """

    camera_id: int
    track_id: int
    ts: float
    end_ts: float | None = None
    label: str = "person"
    box: Box | None = None
    face_embedding: npt.NDArray[np.float32] | None = None
    appearance: npt.NDArray[np.float32] | None = None
    quality: float = 0.0
    face_quality: float | None = None
    crop_jpeg: bytes | None = None
    face_jpeg: bytes | None = None
    event_id: int | None = None
    color: str | None = None
    color_hex: str | None = None

    @property
    def last_ts(self) -> float:
        """``end_ts`` when given, else ``ts``."""
        return self.ts if self.end_ts is None else max(self.ts, self.end_ts)
