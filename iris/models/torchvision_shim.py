"""Make ``import torchvision`` (and so ultralytics inference) work without its compiled ops.

The only torchvision wheel that installs beside CPU torch 2.13 here ships a ``_C`` extension
built for another torch. Loading it fails quietly, and then ``torchvision/_meta_registrations``
dies at import with ``operator torchvision::nms does not exist``, because it registers fake
kernels for ``torchvision::nms`` and ``torchvision::qnms`` by name. ``import ultralytics``
itself still works (8.4 imports torchvision lazily), but the first ``predict`` or ``export``
imports it and fails; once torchvision is imported, ultralytics' NMS calls
``torchvision.ops.nms``, whose wrapper refuses to run without the compiled extension.

`install_torchvision_nms` therefore:

1. tries torchvision's own ``_C`` first (a matching build, e.g. on a GPU node, wins untouched);
2. if ``torchvision::nms`` is still missing, defines it (and ``qnms``) with torch.library and a
   pure-torch kernel that serves every device;
3. imports torchvision and, when its extension is reported missing, points
   ``torchvision.ops.nms`` at that operator (torchvision's wrapper refuses to run otherwise).

Call it before anything imports torchvision (ultralytics' predictor does); it is idempotent.
"""

from __future__ import annotations

import importlib.machinery
import importlib.util
import logging
import threading
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import torch

log = logging.getLogger(__name__)

_lock = threading.Lock()
_state: dict[str, Any] = {"done": False, "shimmed": False, "library": None}


def _op_exists(name: str) -> bool:
    import torch

    # The op namespace raises AttributeError for an operator nobody has defined.
    return hasattr(torch.ops.torchvision, name)


def _load_own_extension() -> None:
    """Load torchvision's ``_C`` the way torchvision would, without importing the package."""
    import torch

    spec = importlib.util.find_spec("torchvision")
    if spec is None or not spec.submodule_search_locations:
        return
    pkg = Path(next(iter(spec.submodule_search_locations)))
    for suffix in importlib.machinery.EXTENSION_SUFFIXES:
        lib = pkg / f"_C{suffix}"
        if lib.exists():
            try:
                torch.ops.load_library(str(lib))
            except (OSError, RuntimeError) as exc:
                log.info("torchvision's compiled ops do not load (%s); using pure-torch nms", exc)
            return


def pure_torch_nms(boxes: torch.Tensor, scores: torch.Tensor, iou_threshold: float) -> torch.Tensor:
    """Greedy NMS with torchvision's contract, in plain torch (any device).

    Args:
        boxes: ``(N, 4)`` xyxy boxes.
        scores: ``(N,)`` scores.
        iou_threshold: boxes overlapping a kept box with IoU above this are dropped.

    Returns:
        int64 indices of kept boxes, by decreasing score.
    """
    import torch

    if boxes.numel() == 0:
        return torch.empty((0,), dtype=torch.int64, device=boxes.device)
    boxes = boxes.float()
    order = torch.argsort(scores.float(), descending=True, stable=True)
    area = (boxes[:, 2] - boxes[:, 0]).clamp(min=0) * (boxes[:, 3] - boxes[:, 1]).clamp(min=0)
    keep: list[torch.Tensor] = []
    # One iteration per kept box: each drops everything it suppresses from the queue.
    while order.numel() > 0:
        i = order[0]
        keep.append(i)
        rest = order[1:]
        if rest.numel() == 0:
            break
        lt = torch.maximum(boxes[i, :2], boxes[rest, :2])
        rb = torch.minimum(boxes[i, 2:], boxes[rest, 2:])
        wh = (rb - lt).clamp(min=0)
        inter = wh[:, 0] * wh[:, 1]
        iou = inter / (area[i] + area[rest] - inter).clamp(min=1e-9)
        order = rest[iou <= iou_threshold]
    return torch.stack(keep).to(torch.int64)


def _define_ops() -> None:
    import torch

    lib = torch.library.Library("torchvision", "FRAGMENT")
    lib.define("nms(Tensor dets, Tensor scores, float iou_threshold) -> Tensor")
    lib.define("qnms(Tensor dets, Tensor scores, float iou_threshold) -> Tensor")
    lib.impl("nms", pure_torch_nms, "CompositeExplicitAutograd")

    def qnms(dets: torch.Tensor, scores: torch.Tensor, iou_threshold: float) -> torch.Tensor:
        return pure_torch_nms(dets.float(), scores.float(), iou_threshold)

    lib.impl("qnms", qnms, "CompositeExplicitAutograd")
    _state["library"] = lib  # a Library unregisters its ops when garbage-collected


def _patch_torchvision_ops() -> None:
    import torch
    import torchvision
    import torchvision.ops.boxes as tv_boxes

    def nms(boxes: torch.Tensor, scores: torch.Tensor, iou_threshold: float) -> torch.Tensor:
        """torchvision.ops.nms without the compiled-extension check."""
        return torch.ops.torchvision.nms(boxes, scores, iou_threshold)

    tv_boxes.nms = nms  # batched_nms looks nms up here
    torchvision.ops.nms = nms


def install_torchvision_nms() -> bool:
    """Ensure ``torchvision`` imports and ``torchvision.ops.nms`` runs.

    Returns:
        True when the pure-torch stand-in is in use, False when torchvision's own ops work.
    """
    with _lock:
        if _state["done"]:
            return bool(_state["shimmed"])
        if importlib.util.find_spec("torchvision") is None:
            # Ultralytics falls back to its own NMS when torchvision is absent.
            _state["done"] = True
            return False
        if not _op_exists("nms"):
            _load_own_extension()
        shimmed = not _op_exists("nms")
        if shimmed:
            _define_ops()
        import torchvision.extension

        if not torchvision.extension._has_ops():
            _patch_torchvision_ops()
            shimmed = True
        _state["done"] = True
        _state["shimmed"] = shimmed
        return shimmed
