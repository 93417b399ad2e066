"""Where media lives under the data root, and containment of every served path."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

MEDIA_KINDS = ("segments", "clips", "thumbs", "hls", "frames")


class PathEscapesRoot(ValueError):
    """A stored or requested path resolves outside the data root."""


def camera_dirs(root: Path, camera_id: int) -> list[Path]:
    """Every per-camera media folder (segments, clips, thumbs, hls, frames)."""
    return [root / kind / str(camera_id) for kind in MEDIA_KINDS]


def contained(root: Path, relative: str | os.PathLike[str]) -> Path:
    """Resolve `relative` against `root`; raise PathEscapesRoot when it leaves the root."""
    base = root.resolve()
    path = (base / relative).resolve()
    if os.path.commonpath([base, path]) != str(base):
        raise PathEscapesRoot(f"{relative!s} escapes the data root")
    return path


def relative_to_root(root: Path, path: Path) -> str:
    """The form stored in the DB: a path relative to the data root."""
    return str(path.resolve().relative_to(root.resolve()))


def remove_file(root: Path, relative: str | None) -> None:
    """Delete one stored file if present; a path outside the root is never touched."""
    if not relative:
        return
    try:
        contained(root, relative).unlink(missing_ok=True)
    except PathEscapesRoot:
        return


def remove_tree(path: Path) -> None:
    """Delete a folder and everything below it, if present."""
    shutil.rmtree(path, ignore_errors=True)
