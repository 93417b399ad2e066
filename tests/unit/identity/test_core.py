"""IdentityCore.assign on a real SQLite DB: observations -> identities, with rows, files on disk
and FAISS galleries in agreement; galleries rebuilt from the DB."""

from __future__ import annotations

from datetime import UTC, datetime

import numpy as np
import pytest

from iris.db.engine import session_scope
from iris.db.tables import (
    Event,
    FaceEmbedding,
    FaceExemplar,
    FaceSample,
    Identity,
    Person,
    Sighting,
)
from iris.db.types import vector_to_blob
from iris.identity import IdentityConfig, IdentityCore
from iris.models.appearance import APPEARANCE_DIM
from iris.types import Observation
from tests.unit.identity.support import (
    CAM_A,
    CAM_B,
    T0,
    assert_consistent,
    jitter,
    rows,
    seen,
    two_people,
    unit,
)


def test_same_face_on_two_cameras_is_one_identity(core, engine, root) -> None:
    rng = np.random.default_rng(0)
    face = unit(rng)
    a = core.assign(seen(CAM_A, 1, 0, jitter(face, rng)))
    b = core.assign(seen(CAM_B, 9, 120, jitter(face, rng)))
    assert (a.match_kind, a.created) == ("new", True)
    assert (b.identity_id, b.match_kind, b.created) == (a.identity_id, "face", False)
    assert b.score is not None and b.score > 0.8
    (ident,) = rows(engine, Identity)
    assert ident.num_sightings == 2 and ident.total_seconds == pytest.approx(20.0)
    assert ident.first_seen == datetime.fromtimestamp(T0, UTC)
    assert ident.last_seen == datetime.fromtimestamp(T0 + 130, UTC)
    assert {s.camera_id for s in rows(engine, Sighting)} == {CAM_A, CAM_B}
    assert (root / f"identities/{a.identity_id}/sighting-{b.sighting_id}.jpg").read_bytes() == (
        b"body")
    assert len(rows(engine, FaceSample, identity_id=a.identity_id)) == 2
    assert core.stats()["identity_faces"] == 2
    assert core.nearest("face", face, 1)[0][0] == a.identity_id
    assert_consistent(core, engine, root)


def test_different_faces_are_different_identities(core, engine, root) -> None:
    rng = np.random.default_rng(1)
    a = core.assign(seen(CAM_A, 1, 0, unit(rng)))
    b = core.assign(seen(CAM_A, 2, 0, unit(rng)))
    assert a.identity_id != b.identity_id and b.match_kind == "new"
    assert_consistent(core, engine, root)


def test_one_track_updates_one_sighting(core, engine, root) -> None:
    rng = np.random.default_rng(2)
    face = unit(rng)
    first = core.assign(seen(CAM_A, 5, 0, face))
    again = core.assign(seen(CAM_A, 5, 20, jitter(face, rng), quality=0.9))
    assert again.sighting_id == first.sighting_id and again.updated_track
    (sighting,) = rows(engine, Sighting)
    assert sighting.end_ts == datetime.fromtimestamp(T0 + 30, UTC)
    (ex,) = rows(engine, FaceExemplar)  # one exemplar per sighting: the better one
    assert ex.quality == pytest.approx(0.9)
    (ident,) = rows(engine, Identity)
    assert ident.num_sightings == 1 and ident.total_seconds == pytest.approx(30.0)
    restarted = IdentityCore(engine, root)  # the track began before this core: found in the DB
    assert restarted.assign(seen(CAM_A, 5, 50, face)).sighting_id == first.sighting_id
    later = restarted.assign(seen(CAM_A, 5, 50 + 10 + 61, face))  # past the track gap
    assert later.sighting_id != first.sighting_id and later.identity_id == first.identity_id
    assert_consistent(restarted, engine, root)


def test_enrolled_person_links_the_identity(core, engine, root) -> None:
    rng = np.random.default_rng(3)
    face = unit(rng)
    with session_scope(engine) as s:
        alice = Person(name="Alice")
        s.add(alice)
        s.flush()
        s.add(FaceEmbedding(person_id=alice.id, vector=vector_to_blob(face)))
    assert core.reload_people() == 1
    with session_scope(engine) as s:
        event = Event(camera_id=CAM_A, ts=datetime.fromtimestamp(T0, UTC))
        s.add(event)
    first = core.assign(seen(CAM_A, 1, 0, jitter(face, rng), event_id=event.id))
    second = core.assign(seen(CAM_B, 2, 60, jitter(face, rng)))
    assert first.match_kind == second.match_kind == "person"
    assert first.identity_id == second.identity_id and first.person_id == alice.id
    (ident,) = rows(engine, Identity)
    assert (ident.name, ident.is_named, ident.person_id) == ("Alice", True, alice.id)
    (ev,) = rows(engine, Event)
    assert (ev.identity_id, ev.person_id, ev.person_name) == (ident.id, alice.id, "Alice")
    assert core.match_person(face) == (alice.id, pytest.approx(1.0, abs=1e-5))


def test_appearance_matches_recent_same_class_only(core, engine, root) -> None:
    rng = np.random.default_rng(4)
    look = unit(rng, APPEARANCE_DIM)
    window = core.config.appearance_window_s
    base = core.assign(seen(CAM_A, 1, 0, appearance=jitter(look, rng, 0.005)))
    later = core.assign(seen(CAM_B, 2, 100, appearance=jitter(look, rng, 0.005)))
    assert (later.identity_id, later.match_kind) == (base.identity_id, "appearance")
    too_late = core.assign(seen(CAM_B, 3, 110 + window + 60, appearance=look))
    car = core.assign(seen(CAM_B, 4, 120, appearance=look, label="car"))
    same_time_same_cam = core.assign(seen(CAM_A, 7, 5, appearance=look))
    for other in (too_late, car, same_time_same_cam):
        assert other.match_kind == "new" and other.identity_id != base.identity_id
    assert_consistent(core, engine, root)


def test_a_different_face_vetoes_an_appearance_match(core, engine) -> None:
    rng = np.random.default_rng(5)
    look = unit(rng, APPEARANCE_DIM)
    a = core.assign(seen(CAM_A, 1, 0, unit(rng), appearance=look))
    b = core.assign(seen(CAM_B, 2, 30, unit(rng), appearance=look))
    assert b.identity_id != a.identity_id and b.match_kind == "new"
    sample = rows(engine, FaceSample, identity_id=a.identity_id)[0]
    assert sample.clothing == vector_to_blob(look / np.linalg.norm(look))
    assert sample.crop_path == f"identities/{a.identity_id}/face-{sample.id}.jpg"


def test_representative_is_the_best_quality_crop(core, engine) -> None:
    rng = np.random.default_rng(14)
    face = unit(rng)
    best = core.assign(seen(CAM_A, 1, 0, face, quality=0.9)).sighting_id
    core.assign(seen(CAM_B, 2, 60, jitter(face, rng), quality=0.3))
    assert rows(engine, Identity)[0].rep_sighting_id == best
    better = core.assign(seen(CAM_B, 3, 120, jitter(face, rng), quality=0.95)).sighting_id
    assert rows(engine, Identity)[0].rep_sighting_id == better


def test_exemplars_are_capped_keeping_the_best(engine, root) -> None:
    core = IdentityCore(engine, root, IdentityConfig(max_face_exemplars=3))
    rng = np.random.default_rng(6)
    face = unit(rng)
    for i, q in enumerate([0.2, 0.9, 0.1, 0.8, 0.7, 0.3]):
        core.assign(seen(CAM_A, i, i * 100, jitter(face, rng), face_quality=q))
    kept = sorted(e.quality for e in rows(engine, FaceExemplar))
    assert kept == pytest.approx([0.7, 0.8, 0.9]) and len(core.galleries.faces) == 3
    assert_consistent(core, engine, root)


def test_vehicle_identity_gets_type_and_colour(core, engine) -> None:
    import cv2

    crop = np.full((80, 160, 3), (30, 30, 200), np.uint8)
    body = cv2.imencode(".jpg", crop)[1].tobytes()
    core.assign(Observation(camera_id=CAM_A, track_id=1, ts=T0, label="car",
                            box=(0, 0, 160, 80), crop_jpeg=body))
    assert rows(engine, Sighting)[0].box == "0.0,0.0,160.0,80.0"
    (ident,) = rows(engine, Identity)
    assert (ident.object_class, ident.vehicle_type, ident.color, ident.make) == (
        "car", "car", "red", None)
    assert ident.color_hex and ident.color_hex.startswith("#")


def test_failed_write_leaves_no_files_and_no_gallery_entry(core, engine, root) -> None:
    rng = np.random.default_rng(7)
    with pytest.raises(Exception, match="FOREIGN KEY"):
        core.assign(seen(99, 1, 0, unit(rng)))  # no camera 99
    assert rows(engine, Identity) == [] and len(core.galleries.faces) == 0
    assert not [p for p in root.rglob("*") if p.is_file()]


def test_rebuild_from_db_restores_galleries(core, engine, root) -> None:
    rng = np.random.default_rng(13)
    a, b, f1, f2 = two_people(core, rng)
    with session_scope(engine) as s:  # a stray vector of the wrong size is skipped, not fatal
        s.add(FaceExemplar(identity_id=a, camera_id=CAM_A, vector=b"\0" * 16))
    fresh = IdentityCore(engine, root)
    assert fresh.stats() == core.stats()
    assert fresh.nearest("face", f2, 1)[0][0] == b
    assert fresh.nearest("face", f1, 1)[0][0] == a
