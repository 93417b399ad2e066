"""Start-up reconciliation of one camera's segment folder with the index (no Ray).

After a crash (kill -9 of a camera, of Iris, a power cut) three things can be out of step:
a `.part` being written (lost: MP4 writes its index last, so it is removed), a finished file
whose row was not written yet (indexed now, if it plays), and a row whose file is gone
(unindexed). The log says what was repaired.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

import av
from sqlalchemy.engine import Engine
from sqlmodel import Session

from iris.layout import Layout
from iris.recording.index import add_segment, forget_segments, indexed_paths
from iris.recording.segment import PART_SUFFIX, Segment

log = logging.getLogger("iris.recording")


@dataclass
class Repairs:
    """What one reconciliation changed."""

    parts_removed: int = 0
    orphans_indexed: int = 0
    unreadable_removed: int = 0
    rows_unindexed: int = 0

    @property
    def any(self) -> bool:
        return bool(self.parts_removed or self.orphans_indexed or self.unreadable_removed
                    or self.rows_unindexed)


def probe_segment(path: Path) -> Segment | None:
    """A finished segment file with its stats, None when the name or the file is not one."""
    span = Segment.from_path(path)
    if span is None:
        return None
    try:
        with av.open(str(path)) as source:
            if not source.streams.video:
                return None
            has_audio = bool(source.streams.audio)
            keyframes = sum(1 for packet in source.demux(source.streams.video[0])
                            if packet.is_keyframe and packet.size)
    except (av.FFmpegError, OSError):
        return None
    if not keyframes:
        return None
    return Segment(span.start, span.end, path, bytes=path.stat().st_size,
                   has_audio=has_audio, keyframes=keyframes)


def reconcile_camera(engine: Engine, layout: Layout, camera_id: int) -> Repairs:
    """Bring the camera's folder and its index rows in step; call before the writer starts."""
    folder = layout.segments(camera_id)
    repairs = Repairs()
    if not folder.is_dir():
        files: dict[str, Path] = {}
    else:
        for part in folder.glob(f"*{PART_SUFFIX}"):
            part.unlink(missing_ok=True)
            repairs.parts_removed += 1
        files = {layout.relative(path): path for path in folder.glob("*.mp4")
                 if Segment.from_path(path) is not None}
    with Session(engine) as session:
        indexed = indexed_paths(session, camera_id=camera_id)
        gone = [row_id for relative, row_id in indexed.items() if relative not in files]
        repairs.rows_unindexed = forget_segments(session, ids=gone)
        session.commit()
        for relative, path in sorted(files.items()):
            if relative in indexed:
                continue
            segment = probe_segment(path)
            if segment is None:
                path.unlink(missing_ok=True)
                repairs.unreadable_removed += 1
            elif add_segment(session, layout=layout, camera_id=camera_id, segment=segment):
                repairs.orphans_indexed += 1
    if repairs.any:
        log.warning("camera %s: recording store repaired after an unclean stop: %d unfinished "
                    "segment(s) removed, %d finished file(s) indexed, %d unreadable file(s) "
                    "removed, %d row(s) without a file unindexed", camera_id,
                    repairs.parts_removed, repairs.orphans_indexed, repairs.unreadable_removed,
                    repairs.rows_unindexed)
    return repairs
