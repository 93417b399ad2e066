"""``python -m iris.models.fetch_export PT OUT``: export a verified YOLO ``.pt`` to ONNX.

Runs in its own process so that torch and ultralytics never load into ``iris up``. The export
is written under a temporary name beside ``OUT`` and renamed into place when complete.
"""

from __future__ import annotations

import os
import shutil
import sys
import tempfile
from pathlib import Path

EXPORT_IMGSZ = 640


def export(pt: Path, out: Path) -> Path:
    """Export ``pt`` (dynamic axes, nominal 640) to ``out``; returns ``out``."""
    from iris.models.detectors.ultralytics import prepare_ultralytics

    prepare_ultralytics()
    from ultralytics import YOLO

    out.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=out.parent, prefix=".export-") as work:
        source = Path(work) / pt.name
        shutil.copyfile(pt, source)  # the exporter writes beside its source
        exported = Path(YOLO(str(source), task="detect").export(
            format="onnx", imgsz=EXPORT_IMGSZ, dynamic=True, simplify=False, verbose=False))
        os.replace(exported, out)
    return out


def main(argv: list[str]) -> int:
    """Entry point: ``PT OUT``."""
    if len(argv) != 2:
        print("usage: python -m iris.models.fetch_export PT OUT", file=sys.stderr)
        return 2
    export(Path(argv[0]), Path(argv[1]))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
