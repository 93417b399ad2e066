"""Clips cut on demand and cached: once per range, fixed builds while footage grows (no Ray)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from iris.recording.cache import cut_clip
from iris.recording.clip import ClipUnavailable
from tests.support.media import decode_errors, probe
from tests.unit.recording.conftest import Store
from tests.unit.recording.support import WALL0


def test_a_settled_range_is_cut_once_then_served_from_the_cache(store: Store,
                                                                clip8: Path) -> None:
    store.record(clip8, WALL0)
    first = cut_clip(store.engine, store.layout, camera_id=store.camera_id, start=WALL0 + 1,
                     end=WALL0 + 7, name="event-1", now=WALL0 + 3600)
    assert first.final and first.duration is not None and abs(first.duration - 6) <= 1
    assert first.path == store.layout.clip_cache(store.camera_id) / "event-1.mp4"
    assert decode_errors(first.path) == ""
    os.utime(first.path, (WALL0, WALL0))
    again = cut_clip(store.engine, store.layout, camera_id=store.camera_id, start=WALL0 + 1,
                     end=WALL0 + 7, name="event-1", now=WALL0 + 3600)
    assert again.path == first.path and again.duration is None  # not cut again
    assert first.path.stat().st_mtime > WALL0  # read now: eviction counts from here


def test_a_growing_range_gets_a_fixed_build_per_footage_and_a_reader_keeps_its_own(
        store: Store, clip8: Path) -> None:
    store.record(clip8, WALL0)  # an event still recording: its range ends "now"
    now = WALL0 + 8.5
    early = cut_clip(store.engine, store.layout, camera_id=store.camera_id, start=WALL0,
                     end=now, name="event-2", now=now)
    assert not early.final and ".upto-" in early.path.name
    assert float(probe(early.path)["format"]["duration"]) == pytest.approx(8, abs=0.1)
    store.record(clip8, WALL0 + 8)  # 8 s more footage
    now = WALL0 + 16.5
    # A player reading on (a Range past byte 0) keeps the bytes it started with.
    same = cut_clip(store.engine, store.layout, camera_id=store.camera_id, start=WALL0,
                    end=now, name="event-2", continuation=True, now=now)
    assert same.path == early.path
    later = cut_clip(store.engine, store.layout, camera_id=store.camera_id, start=WALL0,
                     end=now, name="event-2", now=now)
    assert later.path != early.path and not later.final
    assert float(probe(later.path)["format"]["duration"]) == pytest.approx(16, abs=0.1)
    # Once the range has all its footage, the final cut replaces the partial builds.
    done = cut_clip(store.engine, store.layout, camera_id=store.camera_id, start=WALL0,
                    end=WALL0 + 16, name="event-2", now=now)
    assert done.final
    assert sorted(p.name for p in store.layout.clip_cache(store.camera_id).iterdir()) == \
        ["event-2.mp4"]


def test_a_range_with_no_footage_is_unavailable(store: Store, clip8: Path) -> None:
    store.record(clip8, WALL0)
    with pytest.raises(ClipUnavailable):
        cut_clip(store.engine, store.layout, camera_id=store.camera_id, start=WALL0 + 100,
                 end=WALL0 + 200, name="range-x")
