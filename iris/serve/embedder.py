"""Embedder: the shared face + appearance Serve deployment, batching crops across cameras.

Faces come from insightface (SCRFD + ArcFace, 512-d, L2-normalised) when a model pack is
present; appearance (re-ID) vectors need no weights. Missing face models switch the face path
off (and enrollment answers 503) while appearance keeps working.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from ray import serve

from iris import names
from iris.models.appearance import load_appearance
from iris.models.face_types import FaceHit
from iris.models.faces import FaceRecognizer, FaceUnavailable

log = logging.getLogger("iris.embedder")

DEFAULT_BATCH = 8


@dataclass(frozen=True)
class Embedding:
    """What one person crop yields: its largest face (if any and asked) and appearance."""

    face: FaceHit | None
    appearance: np.ndarray


class EmbedderCore:
    """Models and batched inference (no Serve)."""

    def __init__(self, face_root: str, pack: str, appearance_model: str | None = None) -> None:
        self.reason: str | None = None
        self.faces: FaceRecognizer | None = None
        try:
            self.faces = FaceRecognizer(Path(face_root), pack, det_size=640, threads=1)
        except FaceUnavailable as exc:
            self.reason = exc.reason
            log.warning("faces unavailable: %s", exc.reason)
        self.appearance = load_appearance(appearance_model)
        self.batch_sizes: dict[int, int] = {}

    def info(self) -> dict[str, Any]:
        return {
            "faces_available": self.faces is not None,
            "reason": self.reason,
            "device": self.faces.device if self.faces else "cpu",
            "providers": list(self.faces.providers) if self.faces else [],
            "appearance": self.appearance.name,
            "appearance_dim": self.appearance.dim,
            "batch_sizes": dict(self.batch_sizes),
        }

    def all_faces(self, image: np.ndarray) -> list[FaceHit]:
        if self.faces is None:
            raise FaceUnavailable(self.reason or "face models unavailable")
        return sorted(self.faces.detect(image), key=lambda hit: hit.area, reverse=True)

    def run(self, crops: list[np.ndarray], want_faces: list[bool]) -> list[Embedding]:
        self.batch_sizes[len(crops)] = self.batch_sizes.get(len(crops), 0) + 1
        vectors = self.appearance.embed(crops)
        results = []
        for crop, vector, want in zip(crops, vectors, want_faces, strict=True):
            face = self.faces.largest(crop) if want and self.faces is not None else None
            results.append(Embedding(face=face, appearance=np.asarray(vector, np.float32)))
        return results


@serve.deployment(name=names.EMBEDDER, max_ongoing_requests=64)
class Embedder:
    """Serve shell around `EmbedderCore`."""

    def __init__(self, face_root: str, pack: str, appearance_model: str | None = None) -> None:
        self._core = EmbedderCore(face_root, pack, appearance_model)

    def reconfigure(self, config: dict[str, Any]) -> None:
        """user_config: max_batch_size, batch_wait_timeout_s."""
        self.embed_batch.set_max_batch_size(int(config.get("max_batch_size", DEFAULT_BATCH)))
        self.embed_batch.set_batch_wait_timeout_s(float(config.get("batch_wait_timeout_s", 0.02)))

    async def info(self) -> dict[str, Any]:
        return self._core.info()

    async def faces(self, image: np.ndarray) -> list[FaceHit]:
        """Every face in an image, largest first (enrollment); raises FaceUnavailable."""
        return await asyncio.to_thread(self._core.all_faces, image)

    async def embed(self, crop: np.ndarray, want_face: bool = True) -> Embedding:
        """Face (largest) and appearance vector of one person/object crop."""
        result: Embedding = await self.embed_batch(crop, want_face)
        return result

    @serve.batch(max_batch_size=DEFAULT_BATCH, batch_wait_timeout_s=0.02)
    async def embed_batch(self, crops: list[np.ndarray],
                          want_faces: list[bool]) -> list[Embedding]:
        return await asyncio.to_thread(self._core.run, crops, want_faces)
