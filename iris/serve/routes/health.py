"""/health: the only unauthenticated route (external liveness probe).

It says whether Iris and each camera worker is up, and nothing an attacker could use: no camera
names, counters, reasons, process ids or node ids (those are behind `/api/system`).
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from iris import __version__
from iris.gpu import gpu_memory
from iris.messages import CameraState
from iris.serve.deps import RuntimeDep

router = APIRouter()


def worker_list(states: dict[int, CameraState]) -> list[dict[str, Any]]:
    """Heartbeats as a list, one entry per camera worker (the authenticated, full view)."""
    return [{"camera_id": cid, **state.as_dict()} for cid, state in sorted(states.items())]


@router.get("/health")
def health(runtime: RuntimeDep) -> dict[str, Any]:
    """Liveness: status, version, GPU memory, each worker's status."""
    gpu = gpu_memory()
    return {
        "status": "ok",
        "version": __version__,
        "gpu": {"used_mb": gpu["used_mb"], "total_mb": gpu["total_mb"]},
        "workers": [{"camera_id": cid, "status": state.status}
                    for cid, state in sorted(runtime.worker_states().items())],
    }
