"""`iris models pull|list`: fetch weights when online; say clearly when we are not."""

from __future__ import annotations

import sys

from iris.settings import Settings


def models_command(settings: Settings, command: str) -> int:
    if command == "list":
        det = settings.detector_model_path
        faces = settings.face_model_root_path / "models" / settings.face_model_pack
        print(f"detector ({settings.detector_backend}): {det} "
              f"[{'present' if det.is_file() else 'missing'}]")
        print(f"faces: {faces} [{'present' if faces.is_dir() else 'missing'}]")
        return 0
    print("iris: `models pull` is not available yet", file=sys.stderr)
    return 1
