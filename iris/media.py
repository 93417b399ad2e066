"""Containment of every stored or served path under the data root (where media lives:
`iris.layout`)."""

from __future__ import annotations

import os
import shutil
from pathlib import Path


class PathEscapesRoot(ValueError):
    """A stored or requested path resolves outside the data root."""


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
