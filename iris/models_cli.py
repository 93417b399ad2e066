"""`iris models pull|list`: fetch weights when online; say clearly when we are not."""

from __future__ import annotations

import os
import shutil
import socket
import sys
import tempfile
from pathlib import Path

from iris.settings import Settings

YOLO_WEIGHTS = "yolo11n.pt"
PROBE_HOSTS = (("github.com", 443), ("objects.githubusercontent.com", 443))


class Offline(RuntimeError):
    """No route to the model hosts."""


def _online(timeout: float = 5.0) -> bool:
    for host, port in PROBE_HOSTS:
        try:
            with socket.create_connection((host, port), timeout=timeout):
                return True
        except OSError:
            continue
    return False


def models_command(settings: Settings, command: str) -> int:
    """Entry point of `iris models …`; returns the process exit code."""
    if command == "list":
        return _list(settings)
    if command == "pull":
        try:
            return pull(settings)
        except Offline as exc:
            print(f"iris: {exc}", file=sys.stderr)
            return 1
    return 2


def _list(settings: Settings) -> int:
    det = settings.detector_model_path
    faces = settings.face_model_root_path / "models" / settings.face_model_pack
    print(f"detector ({settings.detector_backend}): {det} "
          f"[{'present' if det.is_file() else 'missing'}]")
    print(f"faces ({settings.face_model_pack}): {faces} "
          f"[{'present' if faces.is_dir() else 'missing'}]")
    return 0


def pull(settings: Settings) -> int:
    """Download yolo11n.pt (export ONNX) and the insightface pack; progress bars from the libs."""
    if not _online():
        raise Offline(
            "cannot reach the model hosts (github.com): this machine is offline. Copy the "
            f"weights by hand instead: a YOLO .onnx/.pt to {settings.detector_model_path} and "
            f"the insightface pack folder to "
            f"{settings.face_model_root_path / 'models' / settings.face_model_pack}/. Without "
            "them Iris records on motion and face features stay off.")
    models = settings.root / "models"
    models.mkdir(parents=True, exist_ok=True)
    _pull_yolo(settings, models)
    _pull_faces(settings)
    return _list(settings)


def _pull_yolo(settings: Settings, models: Path) -> None:
    from iris.models.detectors.ultralytics import prepare_ultralytics

    os.environ["YOLO_OFFLINE"] = "0"
    prepare_ultralytics()
    from ultralytics import YOLO

    pt = models / YOLO_WEIGHTS
    with tempfile.TemporaryDirectory() as work:
        cwd = Path.cwd()
        os.chdir(work)  # ultralytics downloads into the working directory
        try:
            model = YOLO(YOLO_WEIGHTS)
            if not pt.is_file():
                shutil.copy(Path(work) / YOLO_WEIGHTS, pt)
            exported = Path(model.export(format="onnx", imgsz=640, dynamic=True, simplify=False))
        finally:
            os.chdir(cwd)
        target = settings.detector_model_path
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.move(str(exported), target)
    print(f"detector weights: {pt} and {target}")


def _pull_faces(settings: Settings) -> None:
    from insightface.utils import storage

    root = settings.face_model_root_path
    storage.ensure_available("models", settings.face_model_pack, root=str(root))
    print(f"face models: {root / 'models' / settings.face_model_pack}")
