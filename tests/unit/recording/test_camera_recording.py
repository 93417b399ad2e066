"""One camera's recording: segments indexed in order, gaps with their cause (real files, DB)."""

from __future__ import annotations

from pathlib import Path

import av
from sqlmodel import Session, select

from iris.db.tables import RecordingGap, RecordingSegment
from iris.recording.camera import RESTARTED, CameraRecording
from tests.unit.recording.conftest import Store
from tests.unit.recording.support import WALL0


def feed(recording: CameraRecording, source: Path, wall0: float) -> None:
    """The camera (re)connects and streams `source` live from `wall0`."""
    with av.open(str(source)) as container:
        streams = [container.streams.video[0], container.streams.audio[0]]
        recording.open_streams(streams)
        for packet in container.demux(streams):
            if packet.size:
                recording.write(packet, wall0 + float(packet.dts * packet.time_base))  # type: ignore[operator]


def started(store: Store) -> CameraRecording:
    recording = CameraRecording(engine=store.engine, layout=store.layout,
                                camera_id=store.camera_id, segment_seconds=2.0)
    recording.start()
    assert recording.wait_ready(30)
    return recording


def gaps(store: Store) -> list[tuple[float, float, str]]:
    with Session(store.engine) as session:
        rows = session.execute(select(RecordingGap).order_by(RecordingGap.start)).scalars()
        return [(round(r.start - WALL0, 3), round(r.end - WALL0, 3), r.reason) for r in rows]


def test_footage_is_indexed_and_an_outage_is_a_gap_with_its_cause(store: Store,
                                                                  clip8: Path) -> None:
    recording = started(store)
    feed(recording, clip8, WALL0)
    feed(recording, clip8, WALL0 + 8)  # a reconnect without a gap: nothing to explain
    recording.note_outage("stream ended")  # what the reader reports when the camera drops
    recording.note_outage("connection refused")  # and while it retries
    feed(recording, clip8, WALL0 + 38)  # back 22 s later
    recording.close()
    assert recording.wait_indexed(WALL0 + 46, timeout=30)
    recording.stop()

    with Session(store.engine) as session:
        starts = [round(s - WALL0, 3) for s in session.execute(
            select(RecordingSegment.start).order_by(RecordingSegment.start)).scalars()]
    assert starts == [0, 2, 4, 6, 8, 10, 12, 14, 38, 40, 42, 44]
    assert gaps(store) == [(16.0, 38.0, "stream ended")]
    assert recording.indexed_until == WALL0 + 46


def test_a_restart_is_a_gap_from_the_footage_found_at_start(store: Store, clip8: Path) -> None:
    first = started(store)
    feed(first, clip8, WALL0)
    first.close()
    first.stop()
    second = started(store)  # the camera process came back 92 s after its last footage
    assert second.recorded_before_start == WALL0 + 8
    feed(second, clip8, WALL0 + 100)
    second.close()
    second.stop()
    assert gaps(store) == [(8.0, 100.0, RESTARTED)]


def test_waiting_for_footage_that_never_comes_times_out(store: Store) -> None:
    recording = started(store)
    assert not recording.wait_indexed(WALL0, timeout=0.2)
    recording.stop()
