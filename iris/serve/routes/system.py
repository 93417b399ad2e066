"""/api/system: authenticated introspection of the running instance."""

from __future__ import annotations

import platform
import sys
from typing import Any

from fastapi import APIRouter
from fastapi.responses import PlainTextResponse

from iris import __version__
from iris.gpu import gpu_memory
from iris.layout import pack_dir
from iris.notify.metrics import notify_series
from iris.notify.system_view import notifications_view
from iris.serve.deps import CurrentUser, EngineDep, RuntimeDep, SettingsDep
from iris.serve.metrics import CONTENT_TYPE, render
from iris.serve.recording_status import camera_recording_stats, recording_status
from iris.serve.routes.health import worker_list

router = APIRouter()


@router.get("")
def system_info(user: CurrentUser, runtime: RuntimeDep, settings: SettingsDep,
                engine: EngineDep) -> dict[str, Any]:
    """Version, python, user, backend, model paths, face index, GPU memory, workers,
    recording (disk, floor, cap; storage and coverage per camera), notifications (MQTT
    connection, webhook deliveries and failures)."""
    detector = runtime.detector_info()
    faces = runtime.face_index_info()
    providers = detector.get("providers")  # the replica's own; asked here only without one
    return {
        "version": __version__,
        "python": sys.version.split()[0],
        "platform": platform.platform(),
        "user": user.as_dict(),  # who, and their role and cameras
        "backend": {
            "detector": detector.get("backend", settings.detector_backend),
            "detector_available": bool(detector.get("available")),
            "detector_reason": detector.get("reason"),
            # No camera started the model apps yet: not a fault (README "Idle cost").
            "detector_standby": detector.get("status") == "standby",
            "device": detector.get("device", "cpu"),
            "onnx_providers": providers if providers is not None else _onnx_providers(),
            "faces_enabled": bool(faces.get("available", False)),
            "faces_standby": bool(faces.get("standby", False)),
        },
        "models": {
            "yolo": str(settings.detector_model_path),
            "yolo_present": settings.detector_model_path.is_file(),
            "insightface": str(pack_dir(settings.face_model_root_path,
                                        settings.face_model_pack)),
        },
        "face_index": {
            "status": faces.get("status", "unavailable"),
            "count": int(faces.get("count", 0)),
        },
        "gpu": gpu_memory(),
        "workers": worker_list(runtime.worker_states()),
        "ray_dashboard": runtime.dashboard_url,
        "recording": recording_status(engine, settings).model_dump(mode="json"),
        "notifications": notifications_view(settings, runtime.notify_stats()),
    }


@router.get("/metrics", response_class=PlainTextResponse)
def metrics(runtime: RuntimeDep, settings: SettingsDep, engine: EngineDep) -> PlainTextResponse:
    """Prometheus text: per-camera, detector, identity and notification series."""
    states = {cid: state.as_dict() for cid, state in runtime.worker_states().items()}
    body = render(states, runtime.detector_info(), runtime.identity_stats(),
                  camera_recording_stats(engine, settings),
                  notify_series(runtime.notify_stats()))
    return PlainTextResponse(body, media_type=CONTENT_TYPE)


def _onnx_providers() -> list[str]:
    """What this process's onnxruntime offers: importing it costs the Ingress about 20 MiB."""
    try:
        import onnxruntime

        return list(onnxruntime.get_available_providers())
    except Exception:  # noqa: BLE001 - onnxruntime missing is reported as no providers
        return []
