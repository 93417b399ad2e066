"""IdentityCore on a real SQLite DB: sightings -> identities, and merge/split/delete round trips
that leave rows, files on disk and FAISS galleries in agreement."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pytest
from sqlalchemy import func, select, update
from sqlalchemy.engine import Engine
from sqlmodel import Session

from iris.db.engine import make_engine, session_scope
from iris.db.tables import (
    AppearanceExemplar,
    Camera,
    Event,
    FaceEmbedding,
    FaceExemplar,
    FaceSample,
    Identity,
    Person,
    PresenceSegment,
    Sighting,
)
from iris.db.types import vector_to_blob
from iris.models.appearance import APPEARANCE_DIM
from iris.models.identity_core import IdentityCore
from iris.models.identity_types import IdentityConfig, IdentityNotFound, SightingInput
from iris.types import Sighting as Sighting_

CAM_A, CAM_B = 1, 2
T0 = 1_700_000_000.0


def unit(rng: np.random.Generator, dim: int = 512) -> np.ndarray:
    v = rng.standard_normal(dim).astype(np.float32)
    return v / np.linalg.norm(v)


def jitter(v: np.ndarray, rng: np.random.Generator, amount: float = 0.02) -> np.ndarray:
    """Another view of the same face/clothes: cosine ~0.9 with ``v`` at 512-d."""
    return (v + amount * rng.standard_normal(v.shape)).astype(np.float32)


@pytest.fixture()
def engine(tmp_path: Path) -> Engine:
    eng = make_engine(f"sqlite:///{tmp_path / 'iris.db'}")
    with session_scope(eng) as s:
        s.add_all([Camera(name="A", rtsp_url="rtsp://a"), Camera(name="B", rtsp_url="rtsp://b")])
    return eng


@pytest.fixture()
def root(tmp_path: Path) -> Path:
    return tmp_path / "data"


@pytest.fixture()
def core(engine: Engine, root: Path) -> IdentityCore:
    return IdentityCore(engine, root)


def seen(camera: int, track: int, t: float, face: np.ndarray | None = None, **kw: object
         ) -> SightingInput:
    """A 10 s sighting at ``T0 + t`` with a body crop (and a face crop when there is a face)."""
    fields: dict[str, object] = {
        "crop_jpeg": b"body", "face_jpeg": b"face" if face is not None else None, "quality": 0.5
    }
    fields.update(kw)
    return SightingInput(camera_id=camera, track_id=track, ts=T0 + t, end_ts=T0 + t + 10,
                         face_embedding=face, **fields)  # type: ignore[arg-type]


def rows(engine: Engine, table: type, **where: object) -> list:
    with Session(engine) as s:
        q = select(table)
        for col, value in where.items():
            q = q.where(getattr(table, col) == value)
        return list(s.execute(q).scalars())


def assert_consistent(core: IdentityCore, engine: Engine, root: Path) -> None:
    """Galleries hold exactly the exemplar rows; files and rows match; counters add up."""
    with Session(engine) as s:
        for table, gallery, owner in (
            (FaceExemplar, core._faces, core._face_owner),
            (AppearanceExemplar, core._looks, core._look_owner),
        ):
            db = dict(s.execute(select(table.id, table.identity_id)).all())
            assert set(gallery.ids().tolist()) == set(db) and owner == db
        referenced = {p for (p,) in s.execute(select(Sighting.thumb_path)) if p} | {
            p for (p,) in s.execute(select(FaceSample.crop_path)) if p}
        ids = set(s.execute(select(Identity.id)).scalars())
        for ident in s.execute(select(Identity)).scalars():
            n, first = s.execute(select(func.count(), func.min(Sighting.ts)).where(
                Sighting.identity_id == ident.id)).one()
            dwell = s.execute(select(func.coalesce(func.sum(PresenceSegment.seconds), 0.0))
                              .where(PresenceSegment.identity_id == ident.id)).scalar()
            assert ident.num_sightings == n > 0
            assert ident.total_seconds == pytest.approx(dwell)
            assert ident.first_seen == first.replace(tzinfo=UTC)
    on_disk = {str(p.relative_to(root)) for p in root.rglob("*") if p.is_file()}
    assert on_disk == referenced
    for path in referenced:
        assert int(path.split("/")[1]) in ids, f"{path} lies outside its identity's folder"
    dirs = {int(p.name) for p in (root / "identities").iterdir()} if (
        root / "identities").exists() else set()
    assert dirs <= ids


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
    assert kept == pytest.approx([0.7, 0.8, 0.9]) and len(core._faces) == 3
    assert_consistent(core, engine, root)


def test_vehicle_identity_gets_type_and_colour(core, engine) -> None:
    import cv2

    crop = np.full((80, 160, 3), (30, 30, 200), np.uint8)
    body = cv2.imencode(".jpg", crop)[1].tobytes()
    track = Sighting_(camera_id=CAM_A, track_id=1, ts=T0, label="car", box=(0, 0, 160, 80))
    core.assign(SightingInput.from_sighting(track, crop_jpeg=body))
    assert rows(engine, Sighting)[0].box == "0.0,0.0,160.0,80.0"
    (ident,) = rows(engine, Identity)
    assert (ident.object_class, ident.vehicle_type, ident.color, ident.make) == (
        "car", "car", "red", None)
    assert ident.color_hex and ident.color_hex.startswith("#")


def test_failed_write_leaves_no_files_and_no_gallery_entry(core, engine, root) -> None:
    rng = np.random.default_rng(7)
    with pytest.raises(Exception, match="FOREIGN KEY"):
        core.assign(seen(99, 1, 0, unit(rng)))  # no camera 99
    assert rows(engine, Identity) == [] and len(core._faces) == 0
    assert not [p for p in root.rglob("*") if p.is_file()]


def _two_people(core: IdentityCore, rng: np.random.Generator) -> tuple[int, int, np.ndarray,
                                                                         np.ndarray]:
    f1, f2 = unit(rng), unit(rng)
    a = core.assign(seen(CAM_A, 1, 0, f1)).identity_id
    core.assign(seen(CAM_B, 2, 50, jitter(f1, rng)))
    b = core.assign(seen(CAM_A, 3, 400, f2)).identity_id
    core.assign(seen(CAM_B, 4, 500, jitter(f2, rng)))
    return a, b, f1, f2


def test_merge_then_split_round_trip(core, engine, root) -> None:
    rng = np.random.default_rng(8)
    a, b, f1, f2 = _two_people(core, rng)
    with session_scope(engine) as s:
        s.execute(update(Identity).where(Identity.id == b).values(name="Bob", is_named=True))
        event = Event(camera_id=CAM_A, ts=datetime.fromtimestamp(T0 + 400, UTC), identity_id=b)
        s.add(event)
    result = core.merge(a, [b, a, 12345])
    assert (result.ok, result.target_id, result.affected_ids, result.moved_sightings) == (
        True, a, [b], 2)
    assert "not found: 12345" in result.detail
    (ident,) = rows(engine, Identity)
    assert (ident.id, ident.name, ident.is_named, ident.num_sightings) == (a, "Bob", True, 4)
    assert rows(engine, Event)[0].identity_id == a
    assert not (root / "identities" / str(b)).exists()
    assert core.nearest("face", f2, 1)[0][0] == a and core.stats()["identity_faces"] == 4
    assert_consistent(core, engine, root)

    moved = [s.id for s in rows(engine, Sighting) if s.ts >= datetime.fromtimestamp(T0 + 400, UTC)]
    split = core.split(a, sighting_ids=moved, new_name="Carol")
    assert split.ok and split.moved_sightings == 2
    new = split.target_id
    assert {s.identity_id for s in rows(engine, Sighting) if s.id in moved} == {new}
    assert core.nearest("face", f2, 1)[0][0] == new and core.nearest("face", f1, 1)[0][0] == a
    assert rows(engine, Event)[0].identity_id == a, "the event has no sighting moving with it"
    carol = rows(engine, Identity, id=new)[0]
    assert (carol.name, carol.is_named, carol.num_sightings) == ("Carol", True, 2)
    assert len(core._faces) == 4
    assert_consistent(core, engine, root)


def test_auto_split_separates_two_faces(core, engine, root) -> None:
    rng = np.random.default_rng(9)
    a, b, f1, f2 = _two_people(core, rng)
    core.merge(a, [b])
    result = core.split(a, auto=True)
    assert result.ok and result.moved_sightings == 2
    assert {core.nearest("face", f, 1)[0][0] for f in (f1, f2)} == {a, result.target_id}
    assert_consistent(core, engine, root)
    again = core.split(a, auto=True)  # one subject left: nothing to do
    assert not again.ok and "one subject" in again.detail


@pytest.mark.parametrize(
    ("kwargs", "error"),
    [
        ({}, ValueError),
        ({"sighting_ids": [999]}, ValueError),
        ({"sighting_ids": "all"}, ValueError),
        ({"identity_id": 4242, "sighting_ids": [1]}, IdentityNotFound),
    ],
)
def test_split_refuses_bad_requests(core, engine, kwargs, error) -> None:
    rng = np.random.default_rng(10)
    a, *_ = _two_people(core, rng)
    if kwargs.get("sighting_ids") == "all":
        kwargs["sighting_ids"] = [s.id for s in rows(engine, Sighting, identity_id=a)]
    with pytest.raises(error):
        core.split(kwargs.pop("identity_id", a), **kwargs)


def test_merge_refuses_missing_target_and_empty_sources(core) -> None:
    with pytest.raises(IdentityNotFound):
        core.merge(777, [1])
    with pytest.raises(ValueError, match="source"):
        core.merge(1, [1])


def test_delete_removes_solo_events_and_unlinks_shared_ones(core, engine, root) -> None:
    rng = np.random.default_rng(11)
    a, b, f1, _ = _two_people(core, rng)
    clips = root / "clips" / "1"
    clips.mkdir(parents=True)
    with session_scope(engine) as s:
        solo = Event(camera_id=CAM_A, ts=datetime.fromtimestamp(T0, UTC), identity_id=a,
                     clip_path="clips/1/solo.mp4")
        shared = Event(camera_id=CAM_A, ts=datetime.fromtimestamp(T0, UTC), identity_id=a,
                       clip_path="clips/1/shared.mp4")
        s.add_all([solo, shared])
        s.flush()
        s.execute(update(Sighting).where(Sighting.identity_id == b).values(event_id=shared.id))
    for name in ("solo", "shared"):
        (clips / f"{name}.mp4").write_bytes(b"mp4")
    result = core.delete([a, 4242])
    assert result.ok and result.affected_ids == [a] and "not found: 4242" in result.detail
    (kept,) = rows(engine, Event)
    assert kept.id == shared.id and kept.identity_id is None
    assert not (clips / "solo.mp4").exists() and (clips / "shared.mp4").exists()
    assert [i.id for i in rows(engine, Identity)] == [b]
    assert core.nearest("face", f1, 1)[0][0] == b and core.stats()["identity_faces"] == 2
    (clips / "shared.mp4").unlink()  # not a crop: keep the file audit about identities
    assert_consistent(core, engine, root)


def test_maintenance_merges_converging_unnamed_identities_only(engine, root) -> None:
    strict = IdentityConfig(face_threshold=0.999)  # assignment never matches: duplicates form
    core = IdentityCore(engine, root, strict)
    rng = np.random.default_rng(12)
    f1, f2 = unit(rng), unit(rng)
    dup = [core.assign(seen(CAM_A, i, i * 100, jitter(f1, rng))).identity_id for i in range(3)]
    named = [core.assign(seen(CAM_B, 10 + i, i * 100, jitter(f2, rng))).identity_id
             for i in range(2)]
    assert len(set(dup + named)) == 5
    with session_scope(engine) as s:
        s.execute(update(Identity).where(Identity.id == named[0]).values(is_named=True,
                                                                        name="Dana"))
    results = core.maintenance()
    assert [(r.target_id, sorted(r.affected_ids)) for r in results] == [(dup[0], dup[1:])]
    assert sorted(i.id for i in rows(engine, Identity)) == sorted([dup[0], *named])
    assert core.maintenance() == []
    assert_consistent(core, engine, root)


def test_rebuild_from_db_restores_galleries(core, engine, root) -> None:
    rng = np.random.default_rng(13)
    a, b, f1, f2 = _two_people(core, rng)
    with session_scope(engine) as s:  # a stray vector of the wrong size is skipped, not fatal
        s.add(FaceExemplar(identity_id=a, camera_id=CAM_A, vector=b"\0" * 16))
    fresh = IdentityCore(engine, root)
    assert fresh.stats() == core.stats()
    assert fresh.nearest("face", f2, 1)[0][0] == b
    assert fresh.nearest("face", f1, 1)[0][0] == a
