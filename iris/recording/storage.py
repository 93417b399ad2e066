"""How much room recordings take and how much the disk has left (no Ray).

Recordings are what retention may delete (`iris.layout.RECORDINGS`): indexed segments (their
bytes come from the index, so a month of footage is not walked file by file), the clip cache
and thumbnails. Everything else under the data root (models, the database, enrollment photos,
identity crops, HLS) is counted apart and never deleted by retention.
"""

from __future__ import annotations

import os
import shutil
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import func, select
from sqlalchemy.engine import Engine
from sqlmodel import Session, col

from iris.db.tables import RecordingSegment
from iris.layout import CLIPS, RECORDINGS, SEGMENTS, THUMBS

SPACE_REPORT_ENTRIES = 5
GB = 1e9


def size_text(count: float) -> str:
    """`3.1 GB` or `12.0 MB`."""
    return f"{count / GB:.1f} GB" if count >= GB / 10 else f"{count / 1e6:.1f} MB"


@dataclass
class StorageUsage:
    """Bytes under the data root: recordings (what the cap counts) and everything else."""

    segments: int = 0
    clips: int = 0
    thumbs: int = 0
    other: dict[str, int] = field(default_factory=dict)  # top-level name → bytes

    @property
    def recordings(self) -> int:
        return self.segments + self.clips + self.thumbs

    @property
    def other_bytes(self) -> int:
        return sum(self.other.values())

    def largest_other(self, entries: int = SPACE_REPORT_ENTRIES) -> str:
        """`models 3.1 GB, iris.db 0.2 GB, …`: what takes the space retention may not free."""
        biggest = sorted(self.other.items(), key=lambda item: -item[1])[:entries]
        return ", ".join(f"{name} {size_text(size)}" for name, size in biggest)


def indexed_bytes(engine: Engine) -> int:
    """Bytes of every indexed segment."""
    with Session(engine) as session:
        return int(session.execute(select(func.coalesce(
            func.sum(col(RecordingSegment.bytes)), 0))).scalar_one())


def storage_usage(engine: Engine, root: Path) -> StorageUsage:
    """Recordings (segments from the index, clips and thumbnails walked) and the rest."""
    usage = StorageUsage(segments=indexed_bytes(engine))
    try:
        entries = list(os.scandir(root))
    except FileNotFoundError:
        return usage
    for entry in entries:
        if entry.name == SEGMENTS:
            continue  # counted from the index
        size = tree_bytes(Path(entry.path))
        if entry.name == CLIPS:
            usage.clips = size
        elif entry.name == THUMBS:
            usage.thumbs = size
        elif entry.name not in RECORDINGS:
            usage.other[entry.name] = size
    return usage


def tree_bytes(path: Path) -> int:
    """Bytes of the files below `path` (symlinks not followed)."""
    if not path.is_dir() or path.is_symlink():
        try:
            return path.lstat().st_size
        except FileNotFoundError:
            return 0
    total = 0
    for folder, _dirs, names in os.walk(path):
        for name in names:
            try:
                total += (Path(folder) / name).lstat().st_size
            except FileNotFoundError:
                continue
    return total


@dataclass(frozen=True)
class DiskSpace:
    """The filesystem holding the data root."""

    total: int
    free: int

    def shortfall(self, min_free_bytes: int) -> int:
        """Bytes to free so that at least `min_free_bytes` are free (0 when there are)."""
        return max(0, min_free_bytes - self.free)


def disk_space(root: Path) -> DiskSpace:
    """Total and free bytes of the data root's filesystem (free as an unprivileged writer)."""
    usage = shutil.disk_usage(root)
    return DiskSpace(total=usage.total, free=usage.free)


def min_free_bytes(total: int, *, min_free_gb: float, min_free_percent: float) -> int:
    """The free-disk floor: the larger of an absolute size and a share of the disk."""
    return int(max(min_free_gb * GB, total * min_free_percent / 100))
