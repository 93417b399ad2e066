"""/api/face-groups through the Serve proxy: clustering, thumbnails, enroll, label, clips, deletes.

Face samples are seeded straight into the DB (as the IdentityManager writes them), with stand-in
ArcFace embeddings of drawn faces or synthetic unit vectors. Each test starts from no samples.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from uuid import uuid4

import cv2
import httpx
import numpy as np
import pytest
import ray
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from iris import names
from iris.db.tables import Event, FaceEmbedding, FaceSample, Identity, Sighting
from iris.db.types import blob_to_vector, vector_to_blob
from iris.models.face_standins import build_face_pack, draw_face
from iris.models.faces import FaceRecognizer
from tests.integration.conftest import IrisInstance

T0 = datetime(2030, 6, 1, 12, 0, tzinfo=UTC)


@pytest.fixture
def client(iris: IrisInstance) -> Iterator[httpx.Client]:
    with iris.client() as client:
        cleared = client.post("/api/face-groups/samples/clear-all", json={"confirm": True})
        assert cleared.status_code == 200, cleared.text
        yield client


@pytest.fixture(scope="module")
def recognizer(tmp_path_factory: pytest.TempPathFactory) -> FaceRecognizer:
    root = tmp_path_factory.mktemp("face-pack")
    build_face_pack(root)
    return FaceRecognizer(root, det_size=320, providers=["CPUExecutionProvider"], threads=1)


@pytest.fixture
def cameras(client: httpx.Client) -> Iterator[list[int]]:
    """Two disabled cameras (events need a camera row); deleted afterwards with their events."""
    ids = [client.post("/api/cameras", json={"name": f"fg{i}", "enabled": False,
                                             "rtsp_url": f"rtsp://127.0.0.1:9/{i}"}).json()["id"]
           for i in range(2)]
    yield ids
    for camera_id in ids:
        client.delete(f"/api/cameras/{camera_id}")


def standin_embedding(recognizer: FaceRecognizer, identity: int, view: int) -> np.ndarray:
    """The stand-in ArcFace vector of one drawn face, seen at a view-dependent place and size."""
    rng = np.random.default_rng(identity * 10 + view)
    crop = cv2.resize(rng.integers(40, 180, (5, 3, 3), dtype=np.uint8), (240, 400))
    draw_face(crop, (100 + 10 * view, 90 + 5 * view), 30 + 6 * view, identity)
    jpeg = cv2.imdecode(cv2.imencode(".jpg", crop, [cv2.IMWRITE_JPEG_QUALITY, 60 + 8 * view])[1],
                        cv2.IMREAD_COLOR)
    hit = recognizer.largest(jpeg)
    assert hit is not None
    return hit.embedding


def unit_vectors(n: int, seed: int) -> np.ndarray:
    rows = np.random.default_rng(seed).standard_normal((n, 512)).astype(np.float32)
    return rows / np.linalg.norm(rows, axis=1, keepdims=True)


def seed_sample(engine: Engine, root: Path, vector: np.ndarray, *, camera_id: int = 1,
                ts: datetime = T0, quality: float = 0.5, label: str | None = None,
                identity_id: int | None = None, crop: bool = True) -> int:
    """One captured face row, with a JPEG crop on disk unless `crop` is False."""
    relative = None
    if crop:
        relative = f"identities/fg/{uuid4().hex}.jpg"
        (root / relative).parent.mkdir(parents=True, exist_ok=True)
        (root / relative).write_bytes(cv2.imencode(".jpg", np.full((8, 8, 3), 99, np.uint8))[1])
    with Session(engine) as session:
        row = FaceSample(camera_id=camera_id, ts=ts, quality=quality, label=label,
                         identity_id=identity_id, crop_path=relative,
                         embedding=vector_to_blob(vector))
        session.add(row)
        session.commit()
        assert row.id is not None
        return row.id


def groups_of(client: httpx.Client, **params: Any) -> dict[str, Any]:
    response = client.get("/api/face-groups", params=params)
    assert response.status_code == 200, response.text
    return dict(response.json())


# ----------------------------------------------------------------------------- clustering
def test_identical_stand_in_faces_group_and_different_ones_separate(
    client: httpx.Client, engine: Engine, iris: IrisInstance, recognizer: FaceRecognizer
) -> None:
    root = iris.settings.root
    ones = [seed_sample(engine, root, standin_embedding(recognizer, 1, v), camera_id=1 + v % 2,
                        ts=T0 + timedelta(minutes=v), quality=0.4 + 0.1 * v) for v in range(4)]
    fours = [seed_sample(engine, root, standin_embedding(recognizer, 4, v), camera_id=2,
                         ts=T0 + timedelta(hours=1, minutes=v), quality=0.5) for v in range(3)]
    payload = groups_of(client)
    assert payload["total_samples"] == 7 and payload["total_groups"] == 2
    assert payload["settings"] == {"face_threshold": 0.5, "clothing_weight": 0.0,
                                   "min_size": 1, "max_members": 40, "max_samples": 2000}
    big, small = payload["groups"]
    assert {m["id"] for m in big["members"]} == set(ones) and big["size"] == 4
    assert {m["id"] for m in small["members"]} == set(fours) and small["size"] == 3
    assert big["group_id"] == ones[3]  # the best-quality face represents the group
    assert big["cameras"] == [1, 2] and small["cameras"] == [2]
    assert datetime.fromisoformat(big["first_seen"]) == T0
    assert datetime.fromisoformat(big["last_seen"]) == T0 + timedelta(minutes=3)
    assert big["rep_thumb_url"] == f"/api/face-groups/samples/{ones[3]}/thumbnail"
    assert big["members"][0] == {"id": ones[3], "thumb_url": big["rep_thumb_url"]}
    assert groups_of(client) == payload  # stable ids: nothing changed, nothing moves

    narrowed = groups_of(client, min_size=4, max_members=2)
    assert [g["group_id"] for g in narrowed["groups"]] == [ones[3]]
    assert narrowed["groups"][0]["size"] == 4 and len(narrowed["groups"][0]["members"]) == 2
    newest = groups_of(client, max_samples=3)  # the three newest captures: identity 4's
    assert newest["total_samples"] == 3 and newest["groups"][0]["size"] == 3


@pytest.mark.parametrize("params", [{"face_threshold": 1.5}, {"clothing_weight": -0.1},
                                    {"min_size": 0}, {"max_samples": 2001},
                                    {"max_members": -1}])
def test_clustering_params_out_of_range_are_422(client: httpx.Client,
                                                params: dict[str, float]) -> None:
    assert client.get("/api/face-groups", params=params).status_code == 422


def test_thumbnail_is_served_and_contained(client: httpx.Client, engine: Engine,
                                           iris: IrisInstance) -> None:
    root = iris.settings.root
    sid = seed_sample(engine, root, unit_vectors(1, 1)[0])
    response = client.get(f"/api/face-groups/samples/{sid}/thumbnail")
    assert response.status_code == 200 and response.headers["content-type"] == "image/jpeg"
    with Session(engine) as session:
        sample = session.get(FaceSample, sid)
        assert sample is not None and sample.crop_path is not None
        assert response.content == (root / sample.crop_path).read_bytes()
        sample.crop_path = "../../../etc/hostname"
        session.add(sample)
        session.commit()
    assert client.get(f"/api/face-groups/samples/{sid}/thumbnail").status_code == 400
    assert client.get("/api/face-groups/samples/999999/thumbnail").status_code == 404


# ----------------------------------------------------------------------------- enroll, label
def test_enrolling_a_group_creates_the_person_with_its_best_12_faces(
    client: httpx.Client, engine: Engine, iris: IrisInstance
) -> None:
    root = iris.settings.root
    base = unit_vectors(1, 2)[0]
    noise = unit_vectors(15, 3)
    vectors = [(base + 0.3 * n) / np.linalg.norm(base + 0.3 * n) for n in noise]
    ids = [seed_sample(engine, root, v, quality=q, crop=q != 0.95)
           for v, q in zip(vectors, np.linspace(0.1, 0.95, 15), strict=True)]
    manager = ray.get_actor(names.IDENTITY_MANAGER, namespace=iris.settings.ray_namespace)
    before = ray.get(manager.stats.remote(), timeout=30)["people_faces"]

    response = client.post("/api/face-groups/enroll", json={"sample_ids": ids, "name": "Ada"})
    assert response.status_code == 200, response.text
    result = response.json()
    assert result["name"] == "Ada" and result["enrolled_faces"] == 12
    pid = result["person_id"]
    assert client.get(f"/api/people/{pid}").json()["num_faces"] == 12
    with Session(engine) as session:
        faces = session.exec(select(FaceEmbedding).where(FaceEmbedding.person_id == pid)).all()
        labels = {s.label for s in session.exec(select(FaceSample)).all()}
    best = {vector_to_blob(v) for v in vectors[3:]}  # the 12 of highest quality
    assert {f.vector for f in faces} == best
    assert all(np.isclose(np.linalg.norm(blob_to_vector(f.vector)), 1.0) for f in faces)
    assert labels == {"Ada"}
    assert sum(f.image_path is None for f in faces) == 1  # the best one had no crop to copy
    face = next(f for f in faces if f.image_path)
    image = client.get(f"/api/people/{pid}/faces/{face.id}/image")
    assert image.status_code == 200 and image.content[:2] == b"\xff\xd8"
    assert ray.get(manager.stats.remote(), timeout=30)["people_faces"] == before + 12
    assert groups_of(client)["groups"][0]["label"] == "Ada"
    client.delete(f"/api/people/{pid}")


@pytest.mark.parametrize(("body", "expected"), [
    ({"sample_ids": [999_998, 999_999], "name": "Nobody"}, 404),
    ({"sample_ids": [], "name": "Nobody"}, 422),
    ({"sample_ids": [1], "name": ""}, 422),
    ({"sample_ids": list(range(2001)), "name": "Many"}, 422),
])
def test_enroll_refuses_bad_requests(client: httpx.Client, body: dict[str, Any],
                                     expected: int) -> None:
    assert client.post("/api/face-groups/enroll", json=body).status_code == expected


def test_label_sets_and_clears_the_label(client: httpx.Client, engine: Engine,
                                         iris: IrisInstance) -> None:
    vector = unit_vectors(1, 4)[0]
    ids = [seed_sample(engine, iris.settings.root, vector, quality=q) for q in (0.9, 0.8, 0.7)]
    labelled = client.post("/api/face-groups/label",
                           json={"sample_ids": ids[:2] + [999_999], "label": "visitor"})
    assert labelled.status_code == 200 and labelled.json() == {"updated": 2, "label": "visitor"}
    assert groups_of(client)["groups"][0]["label"] == "visitor"  # 2 of 3 members
    cleared = client.post("/api/face-groups/label", json={"sample_ids": ids, "label": ""})
    assert cleared.json() == {"updated": 3, "label": None}
    assert groups_of(client)["groups"][0]["label"] is None


# ----------------------------------------------------------------------------- clips
def test_clips_are_found_by_camera_and_time_overlap(
    client: httpx.Client, engine: Engine, iris: IrisInstance, cameras: list[int]
) -> None:
    cam, other_cam = cameras
    root = iris.settings.root
    vector = unit_vectors(1, 5)[0]

    def event(camera_id: int, start: timedelta, seconds: float | None, clip: bool = True) -> int:
        with Session(engine) as session:
            row = Event(camera_id=camera_id, ts=T0 + start, duration=seconds,
                        end_ts=None if seconds is None else T0 + start + timedelta(seconds=seconds),
                        clip_path=f"clips/{camera_id}/{uuid4().hex}.mp4" if clip else None)
            session.add(row)
            session.commit()
            assert row.id is not None
            return row.id

    with Session(engine) as session:
        identity = Identity(name="walker")
        session.add(identity)
        session.commit()
        assert identity.id is not None
        session.add(Sighting(identity_id=identity.id, camera_id=other_cam,
                             ts=T0 + timedelta(hours=2), end_ts=T0 + timedelta(hours=2, minutes=5)))
        session.commit()
        identity_id = identity.id

    before_start = event(cam, timedelta(0), 30)  # a capture 80 s before it starts
    after_end = event(cam, timedelta(hours=1), 30)  # a capture 15 s after it ends
    too_late = event(cam, timedelta(hours=3), 30)  # a capture 25 s after it ends: no
    too_early = event(cam, timedelta(hours=4), 30)  # a capture 95 s before it starts: no
    no_clip = event(cam, timedelta(0), 30, clip=False)
    same_time_other_cam = event(other_cam, timedelta(0), 30)
    via_sighting = event(other_cam, timedelta(hours=2, minutes=4), 120)  # the identity's
    captures = [T0 - timedelta(seconds=80), T0 - timedelta(seconds=70),  # both hit one event
                T0 + timedelta(hours=1, seconds=45),
                T0 + timedelta(hours=3, seconds=55),
                T0 + timedelta(hours=4) - timedelta(seconds=95)]
    ids = [seed_sample(engine, root, vector, camera_id=cam, ts=ts, identity_id=identity_id)
           for ts in captures]

    response = client.post("/api/face-groups/clips", json={"sample_ids": ids})
    assert response.status_code == 200, response.text
    items = response.json()["items"]
    assert [e["id"] for e in items] == [via_sighting, after_end, before_start]  # newest first
    assert response.json()["total"] == 3
    assert all(e["clip_url"] == f"/api/events/{e['id']}/clip" for e in items)
    assert not {too_late, too_early, no_clip, same_time_other_cam} & {e["id"] for e in items}
    assert client.post("/api/face-groups/clips", json={"sample_ids": [999_999]}).json() == {
        "total": 0, "items": []}


# ----------------------------------------------------------------------------- deletes
def test_sample_deletes_remove_rows_and_crops(client: httpx.Client, engine: Engine,
                                              iris: IrisInstance) -> None:
    root = iris.settings.root
    vectors = unit_vectors(6, 6)
    ids = [seed_sample(engine, root, v, label="x" if i < 2 else None)
           for i, v in enumerate(vectors)]
    with Session(engine) as session:
        crops = {s.id: root / str(s.crop_path) for s in session.exec(select(FaceSample)).all()}
    assert all(path.is_file() for path in crops.values())

    assert client.delete(f"/api/face-groups/samples/{ids[5]}").status_code == 204
    assert not crops[ids[5]].exists()
    assert client.delete(f"/api/face-groups/samples/{ids[5]}").status_code == 404
    bulk = client.post("/api/face-groups/samples/bulk-delete", json={"ids": [ids[4], 999_999]})
    assert bulk.json() == {"deleted": 1} and not crops[ids[4]].exists()
    assert client.post("/api/face-groups/samples/bulk-delete",
                       json={"ids": list(range(1, 1002))}).status_code == 422
    assert client.delete(f"/api/face-groups/samples/{2**63}").status_code == 422
    assert client.post("/api/face-groups/label",
                       json={"sample_ids": [2**63], "label": "x"}).status_code == 422

    refused = client.post("/api/face-groups/samples/clear-all", json={"label": "x"})
    assert refused.status_code == 400 and "confirm" in refused.json()["detail"]
    only_x = client.post("/api/face-groups/samples/clear-all",
                         json={"confirm": True, "label": "x"})
    assert only_x.json() == {"deleted": 2}
    assert groups_of(client)["total_samples"] == 2
    everything = client.post("/api/face-groups/samples/clear-all", json={"confirm": True})
    assert everything.json() == {"deleted": 2}
    assert groups_of(client) == {"total_samples": 0, "total_groups": 0, "groups": [],
                                 "settings": groups_of(client)["settings"]}
    assert not any(path.exists() for path in crops.values())
