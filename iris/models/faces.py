"""Face detection and recognition with insightface (SCRFD + ArcFace) from a model pack folder.

The pack lives at ``<root>/models/<pack>/`` (``buffalo_l`` by default), the layout insightface
itself uses. A missing or broken pack raises `FaceUnavailable` with a reason an operator can act
on; the rest of Iris keeps working without faces (enrollment answers 503).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from iris.layout import pack_dir
from iris.models.errors import ModelUnavailable
from iris.models.face_types import FACE_DIM, FaceHit
from iris.models.providers import choose_providers

log = logging.getLogger(__name__)

FACE_MODULES = ["detection", "recognition"]
MIN_DET_SIZE, MAX_DET_SIZE = 128, 1920


class FaceUnavailable(ModelUnavailable):
    """Face features cannot run: the model pack is missing, unloadable or incomplete."""


def _session_options(threads: int) -> Any:
    import onnxruntime

    options = onnxruntime.SessionOptions()
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    options.add_session_config_entry("session.intra_op.allow_spinning", "0")
    return options


def _providers(preferred: Sequence[str] | None) -> list[str]:
    import onnxruntime

    return choose_providers(onnxruntime.get_available_providers(), preferred)


class FaceRecognizer:
    """SCRFD detector + ArcFace embedder loaded through insightface's `FaceAnalysis`.

    ``detect`` is safe to call from several threads (onnxruntime sessions are).

    Attributes:
        folder: the pack folder the models came from.
        providers: onnxruntime execution providers in use.
        device: ``"cuda:0"`` when CUDA runs the models, else ``"cpu"``.
        det_size: side of the square detector input.
    """

    def __init__(
        self,
        root: Path | str,
        pack: str = "buffalo_l",
        det_size: int = 640,
        det_thresh: float = 0.5,
        providers: Sequence[str] | None = None,
        threads: int | None = None,
    ) -> None:
        """Load and prepare the pack.

        Args:
            root: insightface root (the pack is at ``<root>/models/<pack>``).
            pack: pack name, e.g. ``buffalo_l``.
            det_size: detector input side, a multiple of 32 in ``[128, 1920]``; smaller is
                faster and misses small faces (crops of one person suit 320).
            det_thresh: minimum detector score in ``[0, 1]``.
            providers: onnxruntime providers in order of preference; default CUDA then CPU.
            threads: onnxruntime intra-op threads (``None``: its default, one per core); on
                small shared hosts 1 keeps the detector and decoder responsive.

        Raises:
            ValueError: ``det_size`` or ``det_thresh`` out of range.
            FaceUnavailable: the pack is missing, unloadable, or lacks a detection or
                recognition model.
        """
        if det_size % 32 or not MIN_DET_SIZE <= det_size <= MAX_DET_SIZE:
            raise ValueError(
                f"det_size must be a multiple of 32 in [{MIN_DET_SIZE}, {MAX_DET_SIZE}], "
                f"got {det_size}"
            )
        if not 0.0 <= det_thresh <= 1.0:
            raise ValueError(f"det_thresh must lie in [0, 1], got {det_thresh}")
        self.folder = pack_dir(root, pack)
        if not self.folder.is_dir() or not any(self.folder.glob("*.onnx")):
            raise FaceUnavailable(f"no face models at {self.folder}; run `iris models pull`")
        try:
            from insightface.app import FaceAnalysis
        except ImportError as exc:  # a broken install, not a user error, but say so plainly
            raise FaceUnavailable(f"insightface cannot be imported ({exc})") from exc
        self.providers = _providers(providers)
        self.device = "cuda:0" if "CUDAExecutionProvider" in self.providers else "cpu"
        self.det_size = det_size
        try:
            # The resolved folder as `name` makes insightface load it directly; it never
            # reaches its download path, which would hang on an offline host.
            app: Any = FaceAnalysis(
                name=str(self.folder),
                root=str(Path(root).expanduser()),
                allowed_modules=FACE_MODULES,
                providers=self.providers,
                **({} if threads is None else {"sess_options": _session_options(threads)}),
            )
        except Exception as exc:  # noqa: BLE001 - any load failure means "no faces", said why
            raise FaceUnavailable(
                f"face models at {self.folder} could not be loaded ({type(exc).__name__}: "
                f"{exc}); run `iris models pull`"
            ) from exc
        missing = [m for m in FACE_MODULES if m not in app.models]
        if missing:
            raise FaceUnavailable(
                f"face pack at {self.folder} has no {' or '.join(missing)} model; "
                "run `iris models pull`"
            )
        app.prepare(
            ctx_id=0 if self.device.startswith("cuda") else -1,
            det_thresh=det_thresh,
            det_size=(det_size, det_size),
        )
        self._app = app
        log.info("faces: loaded %s on %s (det_size %d)", self.folder, self.device, det_size)

    def detect(self, image_bgr: np.ndarray, max_faces: int = 0) -> list[FaceHit]:
        """Find and embed the faces in one image.

        Args:
            image_bgr: ``H x W x 3`` uint8 BGR image (a frame or a person crop).
            max_faces: keep at most this many (largest, most central first); 0 keeps all.

        Returns:
            Faces ordered by detector score, highest first.

        Raises:
            ValueError: the image is not ``H x W x 3`` uint8.
        """
        if image_bgr.dtype != np.uint8 or image_bgr.ndim != 3 or image_bgr.shape[2] != 3:
            raise ValueError(
                f"image must be H x W x 3 uint8 BGR, got {image_bgr.dtype} {image_bgr.shape}"
            )
        hits = []
        for face in self._app.get(image_bgr, max_num=max_faces):
            raw = getattr(face, "embedding", None)
            if raw is None:
                continue
            emb = np.asarray(raw, np.float32).ravel()
            norm = float(np.linalg.norm(emb))
            if emb.shape[0] != FACE_DIM or not np.isfinite(norm) or norm == 0.0:
                log.warning("faces: dropping a face with an unusable embedding %s", emb.shape)
                continue
            hits.append(
                FaceHit(
                    bbox=tuple(float(v) for v in face.bbox[:4]),  # type: ignore[arg-type]
                    det_score=float(face.det_score),
                    kps=np.asarray(face.kps, np.float32).reshape(5, 2),
                    embedding=emb / norm,
                )
            )
        return hits

    def largest(self, image_bgr: np.ndarray) -> FaceHit | None:
        """The face with the largest box, or ``None`` when there is none (enrollment uses it)."""
        hits = self.detect(image_bgr)
        return max(hits, key=lambda h: h.area) if hits else None


def load_face_recognizer(
    root: Path | str,
    pack: str = "buffalo_l",
    det_size: int = 640,
    providers: Sequence[str] | None = None,
    threads: int | None = None,
) -> FaceRecognizer | None:
    """A recogniser, or ``None`` (logged with its reason) when the pack is unavailable."""
    try:
        return FaceRecognizer(root, pack, det_size=det_size, providers=providers,
                              threads=threads)
    except FaceUnavailable as exc:
        log.warning("faces unavailable: %s", exc.reason)
        return None
