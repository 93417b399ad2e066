"""/api/identities through the Serve proxy, over identities the real IdentityCore filed.

Each test seeds its own object class (so other modules' rows never count) on two fresh cameras:
X seen on B then twice on A, Y once on A, Z once on B without crops or a face. Corrections go
through the running `IdentityManager` actor (and, in one test, the in-process fallback), and
every round trip is checked against the DB, the files on disk and the actor's galleries.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import pytest
import ray
from sqlalchemy import func, select
from sqlalchemy.engine import Engine
from sqlmodel import Session

from iris import names
from iris.db.engine import session_scope
from iris.db.tables import Event, FaceSample, Identity, PresenceSegment, Sighting
from iris.identity import IdentityCore
from iris.models.appearance import APPEARANCE_DIM
from iris.types import Observation
from tests.support.api import api_client

# (who, camera, track, hours before the current hour, minute, seconds in view, event)
SEED = [
    ("X", "B", 2, 5, 10, 30, "E1"),
    ("Y", "A", 4, 5, 30, 40, "E2"),
    ("X", "A", 1, 2, 5, 10, None),
    ("X", "A", 3, 2, 20, 20, "E2"),  # E2 is shared: Y's event, X in it too
    ("Z", "B", 5, 2, 40, 50, None),
]


@dataclass
class World:
    label: str
    cams: dict[str, int]
    seeded_at: datetime
    hour: datetime  # start of the hour the seeding ran in
    ids: dict[str, int] = field(default_factory=dict)
    sightings: dict[str, list[int]] = field(default_factory=dict)
    events: dict[str, int] = field(default_factory=dict)
    faces: dict[str, np.ndarray] = field(default_factory=dict)
    looks: dict[str, np.ndarray] = field(default_factory=dict)
    last_seen: dict[str, datetime] = field(default_factory=dict)


def unit(rng: np.random.Generator, dim: int) -> np.ndarray:
    v = rng.standard_normal(dim).astype(np.float32)
    return v / np.linalg.norm(v)


def jitter(v: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    return (v + 0.02 * rng.standard_normal(v.shape)).astype(np.float32)


@pytest.fixture(scope="module")
def actor(iris: Any) -> Any:
    return ray.get_actor(names.IDENTITY_MANAGER, namespace=iris.settings.ray_namespace)


@pytest.fixture
def world(iris: Any, client: httpx.Client, engine: Engine, actor: Any) -> Iterator[World]:
    """Seed the three identities through `IdentityCore.assign`; cameras deleted afterwards."""
    root: Path = iris.settings.root
    cams = {}
    for name in ("A", "B"):
        made = client.post("/api/cameras", json={"name": f"id-{name}", "enabled": False,
                                                 "rtsp_url": "rtsp://127.0.0.1:9/i"})
        assert made.status_code == 201, made.text
        cams[name] = made.json()["id"]
    now = datetime.now(UTC)
    w = World(label=f"okapi-{uuid.uuid4().hex[:8]}", cams=cams, seeded_at=now,
              hour=now.replace(minute=0, second=0, microsecond=0))
    with session_scope(engine) as session:
        for name, cam in (("E1", "B"), ("E2", "A")):
            clip = f"clips/{cams[cam]}/{name}.mp4"
            (root / clip).parent.mkdir(parents=True, exist_ok=True)
            (root / clip).write_bytes(b"mp4")
            event = Event(camera_id=cams[cam], ts=w.hour, clip_path=clip, label=w.label)
            session.add(event)
            session.flush()
            w.events[name] = event.id
    rng = np.random.default_rng(7)
    core = IdentityCore(engine, root)
    for who in "XYZ":
        w.faces[who], w.looks[who] = unit(rng, 512), unit(rng, APPEARANCE_DIM)
    for who, cam, track, hours, minute, seconds, event in SEED:
        start = w.hour - timedelta(hours=hours, minutes=-minute)
        face = None if who == "Z" else jitter(w.faces[who], rng)
        got = core.assign(Observation(
            camera_id=cams[cam], track_id=track, ts=start.timestamp(),
            end_ts=start.timestamp() + seconds, label=w.label, face_embedding=face,
            appearance=jitter(w.looks[who], rng), quality=0.5,
            crop_jpeg=None if face is None else f"body-{who}".encode(),
            face_jpeg=None if face is None else b"face",
            event_id=w.events.get(event or ""),
        ))
        assert w.ids.setdefault(who, got.identity_id) == got.identity_id
        w.sightings.setdefault(who, []).append(got.sighting_id)
        w.last_seen[who] = start + timedelta(seconds=seconds)
    ray.get(actor.rebuild.remote(), timeout=60)  # the actor learns what the core filed
    yield w
    for cam in cams.values():
        client.delete(f"/api/cameras/{cam}")


def listing(client: httpx.Client, **params: Any) -> tuple[int, list[dict[str, Any]]]:
    got = client.get("/api/identities", params=params)
    assert got.status_code == 200, got.text
    return got.json()["total"], got.json()["items"]


def assert_consistent(engine: Engine, root: Path, actor: Any, w: World) -> None:
    """Rows, counters, crops on disk and the actor's galleries agree for the seeded class."""
    with Session(engine) as s:
        alive = set(s.execute(select(Identity.id).where(Identity.object_class == w.label))
                    .scalars())
        for ident in s.execute(select(Identity).where(Identity.id.in_(alive))).scalars():
            n = s.execute(select(func.count()).where(Sighting.identity_id == ident.id)).scalar()
            dwell = s.execute(select(func.coalesce(func.sum(PresenceSegment.seconds), 0.0))
                              .where(PresenceSegment.identity_id == ident.id)).scalar()
            assert ident.num_sightings == n and ident.total_seconds == pytest.approx(dwell)
        referenced = [(p, i) for p, i in s.execute(
            select(Sighting.thumb_path, Sighting.identity_id).where(Sighting.identity_id.in_(
                alive))) if p] + [(p, i) for p, i in s.execute(
            select(FaceSample.crop_path, FaceSample.identity_id).where(
                FaceSample.identity_id.in_(alive))) if p]
    for path, owner in referenced:
        assert path.startswith(f"identities/{owner}/") and (root / path).is_file(), path
    touched = alive | set(w.ids.values())
    on_disk = {str(p.relative_to(root)) for i in touched
               for p in (root / "identities" / str(i)).rglob("*") if p.is_file()}
    assert on_disk == {p for p, _ in referenced}
    fresh = IdentityCore(engine, root)  # the galleries as the DB says they should be
    live = ray.get(actor.stats.remote(), timeout=30)
    assert {k: live[k] for k in fresh.stats()} == fresh.stats()
    for who in "XYZ":
        for kind, vec in (("face", w.faces[who]), ("appearance", w.looks[who])):
            want = fresh.nearest(kind, vec, 3)
            got = ray.get(actor.nearest.remote(kind, vec, 3), timeout=30)
            assert [i for i, _ in got] == [i for i, _ in want], (who, kind)


# ----------------------------------------------------------------------------- reads
def test_list_filters_order_and_pagination(client: httpx.Client, world: World) -> None:
    ids, cams = world.ids, world.cams
    total, items = listing(client, object_class=world.label)
    assert total == 3 and [i["id"] for i in items] == [ids["Z"], ids["X"], ids["Y"]]
    x = items[1]
    assert x["cameras"] == [{"id": cams["A"], "name": "id-A"}, {"id": cams["B"], "name": "id-B"}]
    assert (x["num_sightings"], x["total_seconds"], x["is_named"]) == (3, 60.0, False)
    assert x["rep_thumb_url"] == f"/api/identities/{ids['X']}/thumbnail"
    assert x["face_thumb_url"].startswith("/api/face-groups/samples/")
    assert (items[0]["rep_thumb_url"], items[0]["face_thumb_url"]) == (None, None)  # Z: no crops
    assert [i["id"] for i in listing(client, object_class=world.label, min_sightings=2)[1]] == [
        ids["X"]]
    assert listing(client, object_class=world.label, named_only=True) == (0, [])
    assert client.put(f"/api/identities/{ids['Y']}", json={"name": "Yara"}).status_code == 200
    assert [i["id"] for i in listing(client, object_class=world.label, named_only=True)[1]] == [
        ids["Y"]]
    page = listing(client, object_class=world.label, limit=2, offset=1)
    assert page[0] == 3 and [i["id"] for i in page[1]] == [ids["X"], ids["Y"]]
    assert listing(client, object_class=world.label, offset=3) == (3, [])
    for bad in ({"limit": 0}, {"limit": 501}, {"offset": -1}, {"min_sightings": -1}):
        assert client.get("/api/identities", params=bad).status_code == 422, bad


def test_analytics_match_the_seeded_data(client: httpx.Client, world: World) -> None:
    got = client.get("/api/identities/analytics", params={"object_class": world.label})
    assert got.status_code == 200, got.text
    data = got.json()
    as_of = datetime.fromisoformat(data["as_of"])
    midnight = as_of.replace(hour=0, minute=0, second=0, microsecond=0)
    assert data["summary"] == {
        "total": 3, "named": 0, "unnamed": 3, "total_sightings": 5, "seen_7d": 3,
        "created_today": 3 if world.seeded_at >= midnight else 0,
        "seen_today": sum(t >= midnight for t in world.last_seen.values()),
    }
    a, b = world.cams["A"], world.cams["B"]
    assert data["by_camera"] == [
        {"camera_id": a, "name": "id-A", "sightings": 3, "distinct_people": 2,
         "avg_dwell_s": pytest.approx((10 + 20 + 40) / 3)},
        {"camera_id": b, "name": "id-B", "sightings": 2, "distinct_people": 2,
         "avg_dwell_s": pytest.approx((30 + 50) / 2)},
    ]
    hours = [datetime.fromisoformat(r["hour"]) for r in data["by_hour"]]
    assert hours[-1] == as_of.replace(minute=0, second=0, microsecond=0)
    assert hours == [hours[0] + timedelta(hours=k) for k in range(24)]
    expected = {world.hour - timedelta(hours=5): 2, world.hour - timedelta(hours=2): 3}
    assert [r["sightings"] for r in data["by_hour"]] == [expected.get(h, 0) for h in hours]
    assert data["by_match_kind"] == {"new": 3, "face": 2, "person": 0, "appearance": 0}
    people = client.get("/api/identities/analytics")  # default class: person
    assert people.status_code == 200 and len(people.json()["by_hour"]) == 24
    assert client.get("/api/identities/analytics", params={"object_class": "x" * 51}
                      ).status_code == 422


def test_detail_sightings_events_and_faces(client: httpx.Client, world: World) -> None:
    x, sx = world.ids["X"], world.sightings["X"]
    detail = client.get(f"/api/identities/{x}", params={"recent": 2}).json()
    assert [s["id"] for s in detail["recent"]] == [sx[2], sx[1]]  # newest first
    assert (detail["num_face_exemplars"], detail["num_appearance_exemplars"]) == (3, 3)
    assert detail["notes"] is None and detail["recent"][0]["camera_name"] == "id-A"
    assert client.get(f"/api/identities/{x}", params={"recent": 0}).json()["recent"] == []
    assert client.get(f"/api/identities/{x}", params={"recent": 201}).status_code == 422
    page = client.get(f"/api/identities/{x}/sightings", params={"limit": 2, "offset": 2}).json()
    assert page["total"] == 3 and [s["id"] for s in page["items"]] == [sx[0]]
    first = page["items"][0]
    assert (first["match_kind"], first["event_id"], first["camera_id"]) == (
        "new", world.events["E1"], world.cams["B"])
    crop = client.get(first["thumb_url"], headers={"Range": "bytes=0-3"})
    assert crop.status_code == 206 and crop.content == b"body"
    events = client.get(f"/api/identities/{x}/events").json()
    assert events["total"] == 2
    assert {e["id"] for e in events["items"]} == {world.events["E1"], world.events["E2"]}
    assert events["items"][0]["clip_url"] == f"/api/events/{events['items'][0]['id']}/clip"
    assert [e["id"] for e in client.get(
        f"/api/identities/{world.ids['Y']}/events").json()["items"]] == [world.events["E2"]]
    assert client.get(f"/api/identities/{world.ids['Z']}/events").json() == {
        "total": 0, "items": []}
    faces = client.get(f"/api/identities/{x}/faces").json()
    assert faces["total"] == 3 and {f["sighting_id"] for f in faces["items"]} == set(sx)
    assert all(f["thumb_url"] == f"/api/face-groups/samples/{f['id']}/thumbnail"
               for f in faces["items"])
    assert client.get(f"/api/identities/{x}/thumbnail").content == b"body-X"


def test_thumbnails_are_null_and_404_when_files_are_missing(
    iris: Any, client: httpx.Client, world: World, engine: Engine
) -> None:
    y = world.ids["Y"]
    with Session(engine) as s:
        paths = [s.get(Sighting, world.sightings["Y"][0]).thumb_path] + list(s.execute(
            select(FaceSample.crop_path).where(FaceSample.identity_id == y)).scalars())
    for path in paths:
        (iris.settings.root / path).unlink()
    item = client.get(f"/api/identities/{y}").json()
    assert (item["rep_thumb_url"], item["face_thumb_url"]) == (None, None)
    assert client.get(f"/api/identities/{y}/sightings").json()["items"][0]["thumb_url"] is None
    assert client.get(f"/api/identities/{y}/faces").json()["items"][0]["thumb_url"] is None
    assert client.get(f"/api/identities/{y}/thumbnail").status_code == 404
    sighting = world.sightings["Y"][0]
    assert client.get(f"/api/identities/sightings/{sighting}/thumbnail").status_code == 404
    z = world.ids["Z"]
    assert client.get(f"/api/identities/{z}/thumbnail").status_code == 404
    assert client.get(f"/api/identities/sightings/{world.sightings['Z'][0]}/thumbnail"
                      ).status_code == 404


def test_rename_annotate_and_confirm(client: httpx.Client, world: World) -> None:
    url = f"/api/identities/{world.ids['Z']}"
    named = client.put(url, json={"name": "  Zed  ", "notes": "blue coat"}).json()
    assert (named["name"], named["is_named"], named["notes"]) == ("Zed", True, "blue coat")
    kept = client.put(url, json={"is_named": False}).json()
    assert (kept["name"], kept["is_named"], kept["notes"]) == ("Zed", False, "blue coat")
    assert client.put(url, json={"is_named": True}).json()["is_named"] is True
    cleared = client.put(url, json={"name": None}).json()
    assert (cleared["name"], cleared["is_named"]) == (None, False)
    for bad in ({"name": ""}, {"name": "   "}, {"name": "x" * 201}, {"colour": "red"}):
        assert client.put(url, json=bad).status_code == 422, bad
    assert client.get(url).json()["name"] is None


# ----------------------------------------------------------------------------- corrections
def test_merge_moves_everything_and_keeps_the_name(
    iris: Any, client: httpx.Client, world: World, engine: Engine, actor: Any
) -> None:
    x, y = world.ids["X"], world.ids["Y"]
    client.put(f"/api/identities/{y}", json={"name": "Yara", "notes": "from Y"})
    got = client.post("/api/identities/merge", json={"target_id": x, "source_ids": [y, x]})
    assert got.status_code == 200, got.text
    assert got.json() | {"detail": ""} == {"ok": True, "target_id": x, "affected_ids": [y],
                                           "moved_sightings": 1, "detail": ""}
    assert client.get(f"/api/identities/{y}").status_code == 404
    merged = client.get(f"/api/identities/{x}").json()
    assert (merged["name"], merged["is_named"], merged["num_sightings"]) == ("Yara", True, 4)
    assert merged["total_seconds"] == pytest.approx(100.0)
    assert not (iris.settings.root / "identities" / str(y)).exists()
    with Session(engine) as s:
        assert s.get(Event, world.events["E2"]).identity_id == x
    assert [i for i, _ in ray.get(actor.nearest.remote("face", world.faces["Y"], 1))] == [x]
    assert_consistent(engine, iris.settings.root, actor, world)


def test_split_and_merge_back_round_trip(
    iris: Any, client: httpx.Client, world: World, engine: Engine, actor: Any
) -> None:
    x, sx = world.ids["X"], world.sightings["X"]
    got = client.post(f"/api/identities/{x}/split",
                      json={"sighting_ids": sx[1:], "new_name": "Xena"})
    assert got.status_code == 200, got.text
    new = got.json()["target_id"]
    assert got.json()["affected_ids"] == [x, new] and got.json()["moved_sightings"] == 2
    part = client.get(f"/api/identities/{new}").json()
    assert (part["name"], part["num_sightings"], part["total_seconds"]) == ("Xena", 2, 30.0)
    assert client.get(f"/api/identities/{x}").json()["num_sightings"] == 1
    assert_consistent(engine, iris.settings.root, actor, world)

    back = client.post("/api/identities/merge", json={"target_id": x, "source_ids": [new]})
    assert back.status_code == 200, back.text
    assert client.get(f"/api/identities/{x}").json()["num_sightings"] == 3
    assert not (iris.settings.root / "identities" / str(new)).exists()
    assert_consistent(engine, iris.settings.root, actor, world)

    one = client.post(f"/api/identities/{x}/split", json={"auto": True}).json()
    assert one["ok"] is False and one["moved_sightings"] == 0  # one face: nothing to split
    for body, code in (({}, 400), ({"sighting_ids": []}, 400), ({"sighting_ids": sx}, 400),
                       ({"sighting_ids": world.sightings["Y"]}, 400), ({"bogus": 1}, 422)):
        assert client.post(f"/api/identities/{x}/split", json=body).status_code == code, body


def test_delete_purges_rows_files_and_solo_events(
    iris: Any, client: httpx.Client, world: World, engine: Engine, actor: Any
) -> None:
    root: Path = iris.settings.root
    x, y, z = world.ids["X"], world.ids["Y"], world.ids["Z"]
    e1, e2 = world.events["E1"], world.events["E2"]
    assert client.delete(f"/api/identities/{y}").status_code == 204
    assert client.get(f"/api/identities/{y}").status_code == 404
    assert not (root / "identities" / str(y)).exists()
    with Session(engine) as s:  # E2 is shared with X: kept, only Y's link goes
        assert s.get(Event, e2).identity_id is None
    assert_consistent(engine, root, actor, world)
    assert client.delete(f"/api/identities/{x}").status_code == 204
    with Session(engine) as s:  # now both events had only X left: gone with their clips
        assert s.get(Event, e1) is None and s.get(Event, e2) is None
    assert not (root / f"clips/{world.cams['B']}/E1.mp4").exists()
    got = client.post("/api/identities/bulk-delete", json={"ids": [z, 2**62]})
    assert got.json() == {"deleted": 1}
    assert listing(client, object_class=world.label) == (0, [])
    near = {i for who in "XYZ" for kind, vec in (("face", world.faces[who]),
                                                   ("appearance", world.looks[who]))
            for i, _ in ray.get(actor.nearest.remote(kind, vec, 5), timeout=30)}
    assert not near & {x, y, z}
    assert_consistent(engine, root, actor, world)


def test_bulk_and_clear_all_guards(client: httpx.Client, world: World) -> None:
    too_many = client.post("/api/identities/bulk-delete", json={"ids": list(range(1, 1002))})
    assert too_many.status_code == 422
    assert client.post("/api/identities/bulk-delete", json={"ids": []}).json() == {"deleted": 0}
    assert client.post("/api/identities/clear-all", json={}).status_code == 400
    assert client.post("/api/identities/clear-all", json={"confirm": False}).status_code == 400
    assert listing(client, object_class=world.label)[0] == 3  # nothing went
    got = client.post("/api/identities/clear-all",
                      json={"confirm": True, "object_class": world.label})
    assert got.status_code == 200 and got.json() == {"deleted": 3}
    assert listing(client, object_class=world.label) == (0, [])


def test_unknown_ids_and_bad_input(client: httpx.Client, world: World) -> None:
    gone = 2**62
    for method, url in (("GET", f"/{gone}"), ("GET", f"/{gone}/sightings"),
                        ("GET", f"/{gone}/events"), ("GET", f"/{gone}/faces"),
                        ("GET", f"/{gone}/thumbnail"), ("GET", f"/sightings/{gone}/thumbnail"),
                        ("DELETE", f"/{gone}")):
        assert client.request(method, f"/api/identities{url}").status_code == 404, url
    assert client.put(f"/api/identities/{gone}", json={"notes": "x"}).status_code == 404
    x = world.ids["X"]
    for body, code in (({"target_id": gone, "source_ids": [x]}, 404),
                       ({"target_id": x, "source_ids": [gone]}, 404),
                       ({"target_id": x, "source_ids": [x]}, 400),
                       ({"target_id": x, "source_ids": []}, 422),
                       ({"target_id": x, "source_ids": list(range(1, 1002))}, 422)):
        assert client.post("/api/identities/merge", json=body).status_code == code, body
    assert client.post(f"/api/identities/{gone}/split", json={"auto": True}).status_code == 404
    for url in ("/0", "/-1", f"/{2**64}", "/abc", "/abc/sightings"):
        assert client.get(f"/api/identities{url}").status_code == 422, url


def test_offline_fallback_without_identity_manager(
    iris: Any, world: World, engine: Engine, actor: Any
) -> None:
    """With no actor (OfflineRuntime) merge, explicit split and delete still work; auto: 501."""

    from iris.serve.api import create_api

    x, y, z = world.ids["X"], world.ids["Y"], world.ids["Z"]
    with api_client(create_api(iris.settings), headers=iris.headers) as offline:
        merged = offline.post("/api/identities/merge", json={"target_id": x, "source_ids": [y]})
        assert merged.status_code == 200 and merged.json()["moved_sightings"] == 1
        assert offline.post(f"/api/identities/{x}/split", json={"auto": True}).status_code == 501
        split = offline.post(f"/api/identities/{x}/split",
                             json={"sighting_ids": world.sightings["Y"], "new_name": "Yan"})
        assert split.status_code == 200, split.text
        assert offline.delete(f"/api/identities/{z}").status_code == 204
    with Session(engine) as s:
        assert s.get(Identity, z) is None and s.get(Identity, y) is None
        assert s.get(Identity, split.json()["target_id"]).num_sightings == 1
    ray.get(actor.rebuild.remote(), timeout=60)  # what the actor does when it (re)starts
    assert_consistent(engine, iris.settings.root, actor, world)
