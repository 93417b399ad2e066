"""Start-up reconciliation after a crash, on real files and a real SQLite index (no Ray)."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest
from sqlmodel import Session, select

from iris.db.tables import RecordingSegment
from iris.recording.index import add_segment
from iris.recording.reconcile import reconcile_camera
from iris.recording.writer import SegmentWriter
from tests.unit.recording.conftest import Store
from tests.unit.recording.support import WALL0, record, segments_in


def indexed(store: Store) -> set[str]:
    with Session(store.engine) as session:
        return set(session.execute(select(RecordingSegment.path)).scalars())


def test_index_and_files_agree_after_a_crash_and_the_log_says_what_was_repaired(
        store: Store, clip8: Path, caplog: pytest.LogCaptureFixture) -> None:
    folder = store.layout.segments(store.camera_id)
    done = []
    writer = SegmentWriter(folder, 2.0, on_segment=done.append)
    record(clip8, folder, writer=writer)  # never closed: the last segment is a .part
    assert len(done) == 3 and len(list(folder.glob("*.part"))) == 1
    with Session(store.engine) as session:  # the index thread got to the first two only
        for segment in done[:2]:
            add_segment(session, layout=store.layout, camera_id=store.camera_id,
                        segment=segment)
    done[0].path.unlink()  # a file gone without its row (a disk error, a hand)
    (folder / "1700000100000-1700000102000.mp4").write_bytes(b"not a video")

    with caplog.at_level(logging.WARNING, logger="iris.recording"):
        repairs = reconcile_camera(store.engine, store.layout, store.camera_id)

    assert (repairs.parts_removed, repairs.orphans_indexed, repairs.unreadable_removed,
            repairs.rows_unindexed) == (1, 1, 1, 1)
    on_disk = {store.layout.relative(s.path) for s in segments_in(folder)}
    assert on_disk == indexed(store) == {store.layout.relative(s.path) for s in done[1:]}
    assert not list(folder.glob("*.part"))
    assert "1 unfinished segment(s) removed, 1 finished file(s) indexed" in caplog.text
    # The orphan was indexed with what the file says.
    with Session(store.engine) as session:
        row = session.execute(select(RecordingSegment).where(
            RecordingSegment.path == store.layout.relative(done[2].path))).scalar_one()
    assert (row.start, row.end, row.keyframes, row.has_audio) == \
        (WALL0 + 4, WALL0 + 6, 2, True)
    assert row.bytes == done[2].path.stat().st_size


def test_nothing_to_repair_says_nothing(store: Store, clip8: Path,
                                        caplog: pytest.LogCaptureFixture) -> None:
    store.record(clip8, WALL0)
    with caplog.at_level(logging.WARNING, logger="iris.recording"):
        repairs = reconcile_camera(store.engine, store.layout, store.camera_id)
    assert not repairs.any and caplog.text == ""
