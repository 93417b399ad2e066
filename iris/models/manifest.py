"""The pinned model files Iris fetches: name, upstream URL, size and SHA-256 of each.

A mirror (`models_base_url`, `iris models pull --mirror URL`) serves the same file names with
the same bytes, so the same hashes hold; nothing a server says can change a pin. A site that
serves its own files (say, an ONNX it exported once) writes its own manifest as JSON in the
same shape (`load_manifest`) and names it with ``IRIS_MODELS_MANIFEST`` or ``--manifest``.

Where the pins come from (none of these files could be downloaded from the machine this was
written on, so each hash is taken from public sources that recorded it, cross-checked):

- ``yolo11n.pt``: the ultralytics/assets release asset (v8.3.0, the YOLO11 release; ultralytics
  8.4 fetches the same bytes from its v8.4.0 tag), 5,613,764 bytes, SHA-256 ``0ebbc80d…``, the
  same in many independent projects that pin it. Ultralytics publishes no ``yolo11n.onnx``, and
  an ONNX export is not byte-reproducible across exporter versions, so Iris pins the ``.pt``,
  verifies it, exports ONNX locally and records the export's own hash in
  ``<data_dir>/models/models.lock.json`` (`iris doctor` checks the ONNX against that record).
- ``buffalo_l.zip``: insightface's release asset (tag v0.7; insightface 2.x names the same file
  under its ``model-zoo`` tag), 288,621,354 bytes, SHA-256 ``80ffe37d…``, and the SHA-256 and
  size of each of its five ONNX members, which other projects pin one by one.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

MANIFEST_ENV = "IRIS_MODELS_MANIFEST"
"""A JSON manifest to use instead of the pinned one (a mirror with files of its own, tests)."""

Sha256 = str
Install = Literal["file", "export-onnx", "unzip"]
Role = Literal["detector", "faces"]


class ManifestError(ValueError):
    """A manifest file that cannot be read or does not have the expected shape."""


class Member(BaseModel):
    """One file inside an archive, checked as it is extracted."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    sha256: Sha256 = Field(pattern=r"^[0-9a-f]{64}$")
    size: int | None = Field(None, ge=0)


class ModelFile(BaseModel):
    """One pinned download and how it becomes usable weights.

    ``install`` says what happens after the file is verified: ``file`` places it as the detector
    weights, ``export-onnx`` keeps the ``.pt`` and exports ONNX from it, ``unzip`` extracts the
    listed ``members`` (each verified) into the insightface pack folder named ``pack``.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(min_length=1, max_length=200, pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]*$")
    role: Role
    url: str = Field(min_length=1, max_length=2048, pattern=r"^https?://")
    sha256: Sha256 = Field(pattern=r"^[0-9a-f]{64}$")
    size: int | None = Field(None, ge=0)
    install: Install
    pack: str | None = Field(default=None, pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]*$")
    members: dict[str, Member] = Field(default_factory=dict)
    source: str = ""

    def url_from(self, base_url: str | None) -> str:
        """Where to fetch this file: ``<base_url>/<name>`` on a mirror, else upstream."""
        return f"{base_url.rstrip('/')}/{self.name}" if base_url else self.url


class Manifest(BaseModel):
    """The files Iris knows how to fetch."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    version: Literal[1] = 1
    files: tuple[ModelFile, ...]

    def by_name(self, name: str) -> ModelFile | None:
        """The entry whose file name is ``name``."""
        return next((f for f in self.files if f.name == name), None)


_INSIGHTFACE_V07 = "https://github.com/deepinsight/insightface/releases/download/v0.7"

PINNED = Manifest(files=(
    ModelFile(
        name="yolo11n.pt", role="detector", install="export-onnx",
        url="https://github.com/ultralytics/assets/releases/download/v8.3.0/yolo11n.pt",
        sha256="0ebbc80d4a7680d14987a577cd21342b65ecfd94632bd9a8da63ae6417644ee1",
        size=5_613_764,
        source="ultralytics/assets v8.3.0 (YOLO11n, COCO, AGPL-3.0)",
    ),
    ModelFile(
        name="buffalo_l.zip", role="faces", install="unzip", pack="buffalo_l",
        url=f"{_INSIGHTFACE_V07}/buffalo_l.zip",
        sha256="80ffe37d8a5940d59a7384c201a2a38d4741f2f3c51eef46ebb28218a7b0ca2f",
        size=288_621_354,
        members={
            "1k3d68.onnx": Member(
                sha256="df5c06b8a0c12e422b2ed8947b8869faa4105387f199c477af038aa01f9a45cc",
                size=143_607_619),
            "2d106det.onnx": Member(
                sha256="f001b856447c413801ef5c42091ed0cd516fcd21f2d6b79635b1e733a7109dbf",
                size=5_030_888),
            "det_10g.onnx": Member(
                sha256="5838f7fe053675b1c7a08b633df49e7af5495cee0493c7dcf6697200b85b5b91",
                size=16_923_827),
            "genderage.onnx": Member(
                sha256="4fde69b1c810857b88c64a335084f1c3fe8f01246c9a191b48c7bb756d6652fb",
                size=1_322_532),
            "w600k_r50.onnx": Member(
                sha256="4c06341c33c2ca1f86781dab0e829f88ad5b64be9fba56e56bc9ebdefc619e43",
                size=174_383_860),
        },
        source="deepinsight/insightface v0.7 (buffalo_l; non-commercial research use only)",
    ),
))
"""The pins Iris ships."""


def load_manifest(path: Path | str) -> Manifest:
    """Read a JSON manifest (``{"version": 1, "files": [...]}``, fields as `ModelFile`).

    Raises:
        ManifestError: unreadable file or a bad shape, with the file and the field named.
    """
    path = Path(path)
    try:
        data = json.loads(path.read_text())
        return Manifest.model_validate(data)
    except OSError as exc:
        raise ManifestError(f"cannot read the models manifest {path}: {exc.strerror}") from None
    except json.JSONDecodeError as exc:
        raise ManifestError(f"models manifest {path} is not JSON: {exc}") from None
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        raise ManifestError(f"models manifest {path}: {where}: {first['msg']}") from None


def active_manifest(path: Path | str | None = None) -> Manifest:
    """The manifest in force: ``path``, else ``$IRIS_MODELS_MANIFEST``, else `PINNED`."""
    chosen = path or os.environ.get(MANIFEST_ENV, "").strip() or None
    return load_manifest(chosen) if chosen else PINNED
