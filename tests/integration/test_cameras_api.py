"""Camera CRUD via the Serve proxy: masking, echo, validation, workers, recursive delete."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
import ray
from sqlmodel import Session, select

from iris import names
from iris.db.engine import make_engine
from iris.db.tables import Event, FaceSample, Identity, PresenceSegment, Sighting
from iris.db.types import vector_to_blob

URL = "rtsp://admin:s3cret@127.0.0.1:9/stream"




def workers(iris) -> dict[int, str]:
    return ray.get(iris.manager.workers.remote())


def test_create_masks_and_starts_worker(iris, client) -> None:
    created = client.post("/api/cameras", json={"name": "Door", "rtsp_url": URL})
    assert created.status_code == 201, created.text
    camera = created.json()
    assert camera["rtsp_url"] == "rtsp://***@127.0.0.1:9/stream"
    assert "s3cret" not in created.text
    assert camera["id"] in workers(iris)

    listed = client.get("/api/cameras").json()
    assert any(c["id"] == camera["id"] for c in listed)
    assert all("s3cret" not in c["rtsp_url"] for c in listed)
    fetched = client.get(f"/api/cameras/{camera['id']}").json()
    assert fetched["rtsp_url"] == camera["rtsp_url"]
    status = client.get(f"/api/cameras/{camera['id']}/status").json()
    assert status["status"] in {"connecting", "online", "error", "offline"}
    client.delete(f"/api/cameras/{camera['id']}")


def test_update_echo_keeps_secret_and_real_url_replaces_it(iris, client) -> None:
    camera = client.post("/api/cameras", json={"name": "Yard", "rtsp_url": URL}).json()
    cid = camera["id"]
    engine = make_engine(iris.settings.resolved_database_url)

    echoed = client.put(f"/api/cameras/{cid}", json={"rtsp_url": camera["rtsp_url"],
                                                      "detect_conf": 0.8})
    assert echoed.status_code == 200
    assert echoed.json()["detect_conf"] == 0.8
    blank = client.put(f"/api/cameras/{cid}", json={"rtsp_url": ""})
    assert blank.status_code == 200
    with Session(engine) as session:
        from iris.db.tables import Camera

        assert session.get(Camera, cid).rtsp_url == URL

    new = client.put(f"/api/cameras/{cid}", json={"rtsp_url": "rtsp://u:p@127.0.0.2/other"})
    assert new.json()["rtsp_url"] == "rtsp://***@127.0.0.2/other"
    with Session(engine) as session:
        from iris.db.tables import Camera

        assert session.get(Camera, cid).rtsp_url == "rtsp://u:p@127.0.0.2/other"
    client.delete(f"/api/cameras/{cid}")


def test_enable_disable_drive_the_worker(iris, client) -> None:
    cid = client.post("/api/cameras", json={"name": "Gate", "rtsp_url": URL,
                                            "enabled": False}).json()["id"]
    assert cid not in workers(iris)
    assert client.get(f"/api/cameras/{cid}/status").json()["status"] == "offline"
    client.put(f"/api/cameras/{cid}", json={"enabled": True})
    assert cid in workers(iris)
    handle = ray.get_actor(names.camera_actor(cid), namespace=iris.settings.ray_namespace)
    client.put(f"/api/cameras/{cid}", json={"detect_imgsz": 640})  # tuning change → restart
    restarted = ray.get_actor(names.camera_actor(cid), namespace=iris.settings.ray_namespace)
    assert restarted._actor_id != handle._actor_id
    client.put(f"/api/cameras/{cid}", json={"enabled": False})
    assert cid not in workers(iris)
    with pytest.raises(ValueError):
        ray.get_actor(names.camera_actor(cid), namespace=iris.settings.ray_namespace)
    client.delete(f"/api/cameras/{cid}")


OUT_OF_RANGE = [
    ("detect_conf", 1.5), ("detect_conf", -0.1), ("pre_seconds", 121), ("pre_seconds", -1),
    ("post_seconds", 301), ("detect_iou", 2), ("detect_imgsz", 100), ("detect_imgsz", 2000),
    ("detect_interval", 61), ("trigger_cooldown", 3601), ("min_trigger_frames", 0),
    ("min_trigger_frames", 101), ("rtsp_transport", "http"), ("name", ""),
    ("enabled", "sometimes"), ("detect_conf", "high"), ("faces_enabled", [1]),
]


@pytest.mark.parametrize(("field", "value"), OUT_OF_RANGE)
def test_out_of_range_is_422_naming_the_field(client, field, value) -> None:
    body = {"name": "Bad", "rtsp_url": URL, field: value}
    created = client.post("/api/cameras", json=body)
    assert created.status_code == 422
    assert any(err["loc"][-1] == field for err in created.json()["detail"]), created.text
    updated = client.put("/api/cameras/1", json={field: value})
    assert updated.status_code in {404, 422}
    if updated.status_code == 422:
        assert any(err["loc"][-1] == field for err in updated.json()["detail"])


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [("post", "/api/cameras", "{not json"), ("put", "/api/cameras/1", "[1,2"),
     ("post", "/api/cameras", "[]"), ("post", "/api/cameras", '{"name": "x"}')],
)
def test_malformed_bodies_are_422(client, method, path, body) -> None:
    response = client.request(method, path, content=body,
                              headers={"Content-Type": "application/json"})
    assert response.status_code == 422, response.text


@pytest.mark.parametrize("method", ["get", "put", "delete"])
def test_unknown_camera_is_404(client, method) -> None:
    response = client.request(method, "/api/cameras/987654",
                              json={} if method == "put" else None)
    assert response.status_code == 404
    assert response.json()["detail"] == "Camera not found."
    assert client.get("/api/cameras/987654/status").status_code == 404
    assert client.get("/api/cameras/not-a-number").status_code == 422


def _seed_history(iris, cam_a: int, cam_b: int) -> dict[str, object]:
    """Events with files, a solo identity on A, a shared identity on A and B."""
    root: Path = iris.settings.root
    engine = make_engine(iris.settings.resolved_database_url)
    now = datetime.now(UTC)
    files = []
    for kind in ("clips", "thumbs", "segments"):
        path = root / kind / str(cam_a) / f"x.{kind}"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(b"data")
        files.append(path)
    crop = root / "identities" / "solo.jpg"
    with Session(engine) as session:
        solo, shared = Identity(), Identity()
        session.add_all([solo, shared])
        session.flush()
        event = Event(camera_id=cam_a, ts=now, clip_path=f"clips/{cam_a}/x.clips",
                      thumb_path=f"thumbs/{cam_a}/x.thumbs", identity_id=solo.id)
        session.add(event)
        session.add_all([
            Sighting(identity_id=solo.id, camera_id=cam_a, ts=now),
            Sighting(identity_id=shared.id, camera_id=cam_a, ts=now),
            Sighting(identity_id=shared.id, camera_id=cam_b, ts=now),
            FaceSample(camera_id=cam_a, identity_id=shared.id, ts=now,
                       embedding=vector_to_blob(__import__("numpy").ones(512))),
            PresenceSegment(identity_id=shared.id, camera_id=cam_a, start=now, end=now),
        ])
        session.commit()
        ids = {"solo": solo.id, "shared": shared.id, "event": event.id}
    crop = root / "identities" / str(ids["solo"]) / "s.jpg"
    crop.parent.mkdir(parents=True, exist_ok=True)
    crop.write_bytes(b"jpg")
    return {"files": files, "crop": crop, **ids}


def test_delete_is_recursive(iris, client) -> None:
    cam_a = client.post("/api/cameras", json={"name": "A", "rtsp_url": URL}).json()["id"]
    cam_b = client.post("/api/cameras", json={"name": "B", "rtsp_url": URL,
                                              "enabled": False}).json()["id"]
    seeded = _seed_history(iris, cam_a, cam_b)

    assert client.delete(f"/api/cameras/{cam_a}").status_code == 204
    assert client.get(f"/api/cameras/{cam_a}").status_code == 404
    assert cam_a not in workers(iris)
    assert not any(path.exists() for path in seeded["files"])
    assert not seeded["crop"].exists()
    engine = make_engine(iris.settings.resolved_database_url)
    with Session(engine) as session:
        assert session.get(Event, seeded["event"]) is None
        assert session.get(Identity, seeded["solo"]) is None          # orphan dropped
        assert session.get(Identity, seeded["shared"]) is not None    # still seen on B
        assert session.execute(select(Sighting).where(Sighting.camera_id == cam_a)).first() is None
        assert session.execute(
            select(FaceSample).where(FaceSample.camera_id == cam_a)).first() is None
        assert session.execute(
            select(PresenceSegment).where(PresenceSegment.camera_id == cam_a)).first() is None
    client.delete(f"/api/cameras/{cam_b}")


def test_repoint_purges_history(iris, client) -> None:
    cid = client.post("/api/cameras", json={"name": "R", "rtsp_url": URL,
                                            "enabled": False}).json()["id"]
    engine = make_engine(iris.settings.resolved_database_url)
    clip = iris.settings.root / "clips" / str(cid) / "old.mp4"
    clip.parent.mkdir(parents=True, exist_ok=True)
    clip.write_bytes(b"old")
    with Session(engine) as session:
        session.add(Event(camera_id=cid, ts=datetime.now(UTC), clip_path=f"clips/{cid}/old.mp4"))
        session.commit()
    client.put(f"/api/cameras/{cid}", json={"rtsp_url": "rtsp://127.0.0.3/new"})
    assert not clip.exists()
    with Session(engine) as session:
        assert session.execute(select(Event).where(Event.camera_id == cid)).first() is None
    client.delete(f"/api/cameras/{cid}")


def _seed_event(iris, cid: int) -> Path:
    engine = make_engine(iris.settings.resolved_database_url)
    clip = iris.settings.root / "clips" / str(cid) / "kept.mp4"
    clip.parent.mkdir(parents=True, exist_ok=True)
    clip.write_bytes(b"old")
    with Session(engine) as session:
        session.add(Event(camera_id=cid, ts=datetime.now(UTC), clip_path=f"clips/{cid}/kept.mp4"))
        session.commit()
    return clip


def _events(iris, cid: int) -> list[Event]:
    with Session(make_engine(iris.settings.resolved_database_url)) as session:
        return list(session.execute(select(Event).where(Event.camera_id == cid)).scalars())


@pytest.mark.parametrize("new_url", [
    "rtsp://admin:n3w-secret@127.0.0.1/stream?token=old&ch=1",  # new password
    "rtsp://127.0.0.1/stream?ch=1",                             # credentials removed
    "rtsp://other@127.0.0.1:554/stream?ch=1&token=new",         # default port, new token
])
def test_credentials_change_is_not_a_repoint(iris, client, new_url: str) -> None:
    url = "rtsp://admin:s3cret@127.0.0.1/stream?token=old&ch=1"
    cid = client.post("/api/cameras", json={"name": "Creds", "rtsp_url": url}).json()["id"]
    try:
        clip = _seed_event(iris, cid)
        handle = ray.get_actor(names.camera_actor(cid), namespace=iris.settings.ray_namespace)
        updated = client.put(f"/api/cameras/{cid}", json={"rtsp_url": new_url})
        assert updated.status_code == 200, updated.text
        assert clip.exists() and len(_events(iris, cid)) == 1  # history kept
        restarted = ray.get_actor(names.camera_actor(cid), namespace=iris.settings.ray_namespace)
        assert restarted._actor_id != handle._actor_id  # the worker uses the new secret

        client.put(f"/api/cameras/{cid}", json={"rtsp_url": "rtsp://127.0.0.1/stream?ch=2"})
        assert not clip.exists() and _events(iris, cid) == []  # another stream: purged
    finally:
        client.delete(f"/api/cameras/{cid}")


def test_detect_classes(client) -> None:
    body = client.get("/api/cameras/detect/classes").json()
    assert "person" in body["classes"] and "car" in body["classes"]
    assert body["default"] == ["person"]
