"""Crops of identities on disk, and a journal that keeps them in step with a transaction."""

from __future__ import annotations

import shutil
from pathlib import Path

from iris.layout import Layout
from iris.media import contained, relative_to_root


def identity_dir(root: Path, identity_id: int) -> Path:
    """``<root>/identities/<id>``: sighting thumbnails and face crops of one identity."""
    return Layout(root).identity(identity_id)


class FileJournal:
    """Files touched inside a transaction: undone on failure, dirs removed after commit."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self._written: list[Path] = []
        self._moved: list[tuple[Path, Path]] = []
        self.remove_after_commit: list[Path] = []

    def write(self, relative: str, data: bytes) -> str:
        """Write ``data`` at ``relative`` under the root; returns the relative path."""
        path = contained(self.root, relative)
        path.parent.mkdir(parents=True, exist_ok=True)
        existed = path.exists()
        path.write_bytes(data)
        if not existed:
            self._written.append(path)
        return relative

    def move(self, relative: str | None, dst_dir: Path) -> str | None:
        """Move a stored file into ``dst_dir`` (same name); returns its new relative path."""
        if not relative:
            return relative
        src = contained(self.root, relative)
        dst = dst_dir / src.name
        if src == dst.resolve():
            return relative
        if src.is_file():
            dst.parent.mkdir(parents=True, exist_ok=True)
            shutil.move(src, dst)
            self._moved.append((src, dst))
        return relative_to_root(self.root, dst)

    def rollback(self) -> None:
        """Remove files written and move moved files back (best effort, newest first)."""
        for src, dst in reversed(self._moved):
            if dst.is_file():
                src.parent.mkdir(parents=True, exist_ok=True)
                shutil.move(dst, src)
        for path in self._written:
            path.unlink(missing_ok=True)

    def commit(self) -> None:
        """After the DB commit: drop folders that no identity owns any more."""
        for folder in self.remove_after_commit:
            shutil.rmtree(folder, ignore_errors=True)
