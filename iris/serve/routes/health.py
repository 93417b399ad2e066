"""/health: the only unauthenticated route (external liveness probe)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from iris import __version__
from iris.gpu import gpu_memory
from iris.serve.deps import RuntimeDep

router = APIRouter()


def worker_list(states: dict[int, dict[str, Any]]) -> list[dict[str, Any]]:
    """Heartbeats as a list, one entry per camera worker."""
    return [{"camera_id": cid, **state} for cid, state in sorted(states.items())]


@router.get("/health")
def health(runtime: RuntimeDep) -> dict[str, Any]:
    """Liveness: status, version, GPU memory, workers."""
    gpu = gpu_memory()
    detector = runtime.detector_info()
    return {
        "status": "ok",
        "version": __version__,
        "gpu": {"used_mb": gpu["used_mb"], "total_mb": gpu["total_mb"]},
        "detector": {"available": bool(detector.get("available")),
                     "reason": detector.get("reason")},
        "workers": worker_list(runtime.worker_states()),
    }
