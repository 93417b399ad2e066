"""Which model files this instance needs, where they go, and which are already there.

One place decides the targets: the detector weights at ``detector_model_path`` and the face
pack folder ``<face_model_root>/models/<face_model_pack>``; fetching, `iris models list` and
`iris doctor` all read them from here.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from iris.layout import Layout, pack_dir
from iris.models.manifest import Manifest, ModelFile
from iris.settings import Settings

LOCK_FILE = "models.lock.json"
Kind = Literal["detector", "faces"]


@dataclass(frozen=True)
class Need:
    """One model this instance uses: where it lives, and the pinned file that provides it.

    Attributes:
        kind: ``detector`` or ``faces``.
        label: how an operator names it (``yolo11n.onnx``, ``buffalo_l``).
        target: the weights file (detector) or the pack folder (faces).
        entry: the manifest file that provides it; ``None`` when nothing pinned does.
        download: where ``entry`` is saved (its ``.part`` lies beside it).
    """

    kind: Kind
    label: str
    target: Path
    entry: ModelFile | None
    download: Path | None

    @property
    def present(self) -> bool:
        """Whether the weights are in place (hashes are `iris doctor`'s business)."""
        if self.kind == "detector":
            return self.target.is_file()
        return pack_complete(self.target, self.entry)


def pack_complete(folder: Path, entry: ModelFile | None) -> bool:
    """A pack folder holds every listed member (any ONNX file when the entry lists none)."""
    if not folder.is_dir():
        return False
    if entry is not None and entry.members:
        return all((folder / name).is_file() for name in entry.members)
    return any(folder.glob("*.onnx"))


def models_dir(settings: Settings) -> Path:
    """``<data_dir>/models``: downloads, the lock file, the default weights."""
    return Layout(settings.root).models


def lock_path(settings: Settings) -> Path:
    """The record of what was installed, with hashes of files made here (ONNX exports)."""
    return models_dir(settings) / LOCK_FILE


def detector_entry(target: Path, manifest: Manifest) -> ModelFile | None:
    """The pinned file that yields ``target``: the same file, or a ``.pt`` to export from."""
    for entry in manifest.files:
        if entry.role != "detector":
            continue
        if entry.name == target.name:
            return entry
        if (entry.install == "export-onnx" and target.suffix == ".onnx"
                and Path(entry.name).stem == target.stem):
            return entry
    return None


def plan(settings: Settings, manifest: Manifest) -> list[Need]:
    """The detector and the face pack this instance uses, present or not."""
    detector = settings.detector_model_path
    entry = detector_entry(detector, manifest)
    download = None
    if entry is not None:
        download = detector if entry.name == detector.name else models_dir(settings) / entry.name
    pack = settings.face_model_pack
    pack_folder = pack_dir(settings.face_model_root_path, pack)
    face_entry = next((f for f in manifest.files if f.role == "faces" and f.pack == pack), None)
    return [
        Need("detector", detector.name, detector, entry, download),
        Need("faces", pack, pack_folder, face_entry,
             pack_folder.parent / face_entry.name if face_entry else None),
    ]
