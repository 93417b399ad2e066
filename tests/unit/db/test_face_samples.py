"""`iris.db.face_samples`: a group's clips by camera and time, enroll, label and delete."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from sqlmodel import Session

from iris.db import face_samples as db
from iris.db.tables import FaceEmbedding, FaceSample, Person
from tests.support.factories import (
    NOW,
    camera_row,
    event_row,
    face_sample_row,
    identity_row,
    sighting_row,
)

S = timedelta(seconds=1)


@pytest.fixture
def cams(session: Session) -> tuple[int, int]:
    a, b = camera_row(session, name="A"), camera_row(session, name="B")
    assert a.id is not None and b.id is not None
    return a.id, b.id


def test_clips_are_events_whose_window_meets_a_capture_or_a_sighting(
    session: Session, cams: tuple[int, int]
) -> None:
    a, b = cams
    identity = identity_row(session)
    assert identity.id is not None
    capture = face_sample_row(session, camera_id=a, ts=NOW, identity_id=identity.id)
    sighting_row(session, identity_id=identity.id, camera_id=b, ts=NOW + 600 * S,
                 end_ts=NOW + 630 * S)

    def clip(camera_id: int, start: timedelta, end: timedelta) -> int:
        event = event_row(session, camera_id=camera_id, ts=NOW + start, end_ts=NOW + end,
                          clip_path="clips/x.mp4")
        assert event.id is not None
        return event.id

    before = clip(a, 80 * S, 100 * S)     # starts 80 s after the capture: within 90 s
    too_late = clip(a, 95 * S, 120 * S)   # starts 95 s after: outside
    after = clip(a, -60 * S, -15 * S)     # ended 15 s before: within 20 s
    too_early = clip(a, -60 * S, -25 * S)
    on_b = clip(b, 610 * S, 700 * S)      # overlaps the sighting on the other camera
    event_row(session, camera_id=a, ts=NOW, end_ts=NOW)  # no clip: never listed
    session.commit()
    found = [e.id for e in db.group_clips(session, rows=[capture], now=NOW)]
    assert found == [on_b, before, after]
    assert too_late not in found and too_early not in found


def test_enroll_copies_the_best_crops_and_labels_the_group(
    session: Session, root: Path, cams: tuple[int, int]
) -> None:
    (root / "crops").mkdir()
    (root / "crops" / "1.jpg").write_bytes(b"crop")
    rows = [face_sample_row(session, camera_id=cams[0], seed=i, crop_path=crop)
            for i, crop in enumerate(["crops/1.jpg", None, "../outside.jpg"])]
    session.commit()
    person = db.enroll_samples(session, root=root, name="Eve", rows=rows,
                               best_ids=[r.id for r in rows[:2] if r.id is not None])
    assert session.get(Person, person.id) is not None
    faces = session.query(FaceEmbedding).all()
    assert len(faces) == 2 and faces[0].vector == rows[0].embedding
    photos = [f.image_path for f in faces]
    assert photos[1] is None and (root / str(photos[0])).read_bytes() == b"crop"
    assert {s.label for s in session.query(FaceSample)} == {"Eve"}


def test_label_delete_and_clear(session: Session, root: Path, cams: tuple[int, int]) -> None:
    (root / "c.jpg").write_bytes(b"crop")
    ids = [face_sample_row(session, camera_id=cams[0], seed=i).id for i in range(250)]
    first = face_sample_row(session, camera_id=cams[1], crop_path="c.jpg")
    session.commit()
    assert db.label_samples(session, sample_ids=ids[:210], label="x") == 210
    assert db.clear_samples(session, root=root, label="x") == 210
    assert db.delete_samples(session, root=root, sample_ids=[first.id, first.id, 999]) == 1
    session.commit()
    assert not (root / "c.jpg").exists()
    assert [s.id for s in db.recent_samples(session, limit=500)] == sorted(ids[210:],
                                                                          reverse=True)
    assert db.clear_samples(session, root=root) == 40
