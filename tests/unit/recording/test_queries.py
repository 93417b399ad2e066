"""The index read back for the API: coverage of a range, a day by hour (real SQLite, files)."""

from __future__ import annotations

import time
from datetime import UTC, date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from sqlmodel import Session

from iris.db.tables import Event
from iris.recording.index import add_gap, merge_spans, segments_between
from iris.recording.queries import camera_stats, coverage, day_bounds, day_summary
from tests.unit.recording.conftest import Store
from tests.unit.recording.support import WALL0


def test_coverage_merges_continuous_footage_and_shows_recorded_gaps(store: Store,
                                                                   clip8: Path) -> None:
    store.record(clip8, WALL0)
    store.record(clip8, WALL0 + 30)  # the camera was offline for 22 s in between
    with Session(store.engine) as session:
        add_gap(session, camera_id=store.camera_id, start=WALL0 + 8, end=WALL0 + 30,
                reason="stream ended")
        whole = coverage(session, camera_id=store.camera_id, start=WALL0 - 10, end=WALL0 + 40)
        part = coverage(session, camera_id=store.camera_id, start=WALL0 + 4, end=WALL0 + 34)
    assert [(round(s - WALL0, 3), round(e - WALL0, 3)) for s, e in whole.spans] == \
        [(0.0, 8.0), (30.0, 38.0)]
    assert [(s - WALL0, e - WALL0) for s, e in whole.gaps] == [(8.0, 30.0)]
    assert whole.recorded_seconds == 16.0
    # Clipped to the range asked for.
    assert [(round(s - WALL0, 3), round(e - WALL0, 3)) for s, e in part.spans] == \
        [(4.0, 8.0), (30.0, 34.0)]
    assert part.recorded_seconds == 8.0


def test_segments_between_are_the_overlapping_ones_oldest_first(store: Store,
                                                                clip8: Path) -> None:
    store.record(clip8, WALL0)
    with Session(store.engine) as session:
        found = segments_between(session, layout=store.layout, camera_id=store.camera_id,
                                 start=WALL0 + 3, end=WALL0 + 4.5)
    assert [round(s.start - WALL0) for s in found] == [2, 4]
    assert all(s.path.is_file() and s.id for s in found)


def test_merge_spans_joins_touching_and_keeps_holes() -> None:
    assert merge_spans([(10, 12), (0, 2), (2.5, 5), (5, 6)]) == [(0, 6), (10, 12)]
    assert merge_spans([(0, 2), (2.5, 5)], tolerance=0) == [(0, 2), (2.5, 5)]


def test_day_summary_spreads_footage_gaps_and_events_over_hours(store: Store) -> None:
    start, _ = day_bounds(date(2026, 3, 2), ZoneInfo("UTC"))
    with Session(store.engine) as session:
        store.fake_segment(session, start + 3600 - 30, start + 3600 + 90)  # across 01:00
        add_gap(session, camera_id=store.camera_id, start=start + 7200, end=start + 7500,
                reason="stream ended")
        for offset, label in ((3700, "person"), (3800, "car"), (3900, "person")):
            session.add(Event(camera_id=store.camera_id, label=label,
                              ts=datetime.fromtimestamp(start + offset, UTC)))
        session.commit()
        hours = day_summary(session, camera_id=store.camera_id, day=date(2026, 3, 2),
                            zone=ZoneInfo("UTC"))
    assert len(hours) == 24
    assert (hours[0].recorded_seconds, hours[1].recorded_seconds) == (30.0, 90.0)
    assert hours[2].gap_seconds == 300.0
    assert (hours[1].events, hours[1].labels) == (3, {"person": 2, "car": 1})
    assert sum(h.events for h in hours) == 3


def test_a_day_is_local_to_its_zone_and_dst_days_are_short(store: Store) -> None:
    berlin = ZoneInfo("Europe/Berlin")
    with Session(store.engine) as session:
        hours = day_summary(session, camera_id=store.camera_id, day=date(2026, 3, 29),
                            zone=berlin)
    assert len(hours) == 23  # clocks go forward at 02:00
    assert datetime.fromtimestamp(hours[0].start, berlin).hour == 0


def test_camera_stats_count_size_span_and_an_ongoing_outage(store: Store) -> None:
    now = time.time() + 7200  # two hours after the camera was made
    with Session(store.engine) as session:
        store.fake_segment(session, now - 7200, now - 3600, size=1000)
        store.fake_segment(session, now - 3600, now - 1800, size=500)
        add_gap(session, camera_id=store.camera_id, start=now - 1800, end=now - 1700,
                reason="stream ended")
        stats = camera_stats(session, now=now, stale_after=30)[store.camera_id]
    assert (stats.bytes, stats.segments, stats.bytes_last_day) == (1500, 2, 1500)
    assert stats.days_held == round(5400 / 86400, 3)
    # Enabled, and no footage for the last 1800 s: that counts as not recorded too.
    assert stats.gap_seconds == 100 + 1800
    assert stats.coverage_today is not None and stats.coverage_today < 1


def test_a_camera_scoped_session_reads_no_footage_of_other_cameras(store: Store,
                                                                  clip8: Path) -> None:
    from iris.db.scope import scoped_engine

    store.record(clip8, WALL0)
    other = store.add_camera(name="other")
    with Session(scoped_engine(store.engine, frozenset({other}))) as session:
        assert coverage(session, camera_id=store.camera_id, start=WALL0,
                        end=WALL0 + 8).spans == []
        assert segments_between(session, layout=store.layout, camera_id=store.camera_id,
                                start=WALL0, end=WALL0 + 8) == []
    with Session(scoped_engine(store.engine, frozenset({store.camera_id}))) as session:
        assert coverage(session, camera_id=store.camera_id, start=WALL0,
                        end=WALL0 + 8).recorded_seconds == 8.0
