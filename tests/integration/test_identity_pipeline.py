"""Cross-camera identities end to end: stand-in detector + face models, real RTSP cameras.

The same stand-in face seen on camera A and then camera B becomes one identity with sightings
on both; a different face on camera C becomes another identity.
"""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest
import ray
from sqlmodel import Session, select

from iris import names
from iris.db.engine import make_engine
from iris.db.tables import Sighting
from iris.models.face_standins import build_face_pack
from iris.models.standins import build_standin_detector
from tests.integration.conftest import IrisInstance, extra_instance
from tests.support.media import to_annexb
from tests.support.rtsp import RtspServer, gstreamer_available
from tests.support.scenes import presence_scene
from tests.support.wait import wait_for

pytestmark = pytest.mark.skipif(not gstreamer_available(), reason="GStreamer RTSP missing")
CAMERA = {"pre_seconds": 1, "post_seconds": 1, "min_trigger_frames": 2, "detect_interval": 0.2,
          "detect_imgsz": 320, "reid_enabled": True, "faces_enabled": True}




@pytest.fixture(scope="module")
def faces_instance(iris, tmp_path_factory: pytest.TempPathFactory) -> Iterator[IrisInstance]:
    folder = tmp_path_factory.mktemp("faces")
    weights = build_standin_detector(folder / "standin.onnx", imgsz=320)
    build_face_pack(folder / "insightface")
    with extra_instance(iris, "faces", data_dir=folder / "data", detector_model=weights,
                        face_model_root=folder / "insightface") as instance:
        yield instance


@pytest.fixture(scope="module")
def scenes(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, RtspServer]]:
    folder = tmp_path_factory.mktemp("face-scenes")
    servers = {}
    for name, face, start_x in (("a", 1, 80), ("b", 1, 700), ("c", 5, 300)):
        clip = presence_scene(folder / f"{name}.mp4", loop_s=12, enter_s=1, leave_s=9,
                              size=(1280, 720), face=face, start_x=start_x)
        servers[name] = RtspServer(to_annexb(clip), fps=25, log_path=folder / f"{name}.log")
        servers[name].start()
    yield servers
    for server in servers.values():
        server.stop()


def describe(instance: IrisInstance) -> list[tuple]:
    engine = make_engine(instance.settings.resolved_database_url)
    with Session(engine) as session:
        return session.execute(select(Sighting.camera_id, Sighting.identity_id,
                                      Sighting.match_kind, Sighting.score)).all()


def sightings_by_camera(instance: IrisInstance) -> dict[int, set[int]]:
    engine = make_engine(instance.settings.resolved_database_url)
    with Session(engine) as session:
        rows = session.execute(select(Sighting.camera_id, Sighting.identity_id)).all()
    found: dict[int, set[int]] = {}
    for camera_id, identity_id in rows:
        found.setdefault(camera_id, set()).add(identity_id)
    return found


def test_same_face_on_two_cameras_is_one_identity(faces_instance, scenes) -> None:
    with faces_instance.client() as client:
        cam_a = client.post("/api/cameras", json={"name": "A", "rtsp_url": scenes["a"].url,
                                                  **CAMERA}).json()["id"]
        seen = wait_for(lambda: (s := sightings_by_camera(faces_instance)).get(cam_a) and s,
                        60, what="a sighting on camera A")
        info = client.get("/api/system").json()  # the first camera started the face models
        assert info["backend"]["faces_enabled"] is True, info
        cam_b = client.post("/api/cameras", json={"name": "B", "rtsp_url": scenes["b"].url,
                                                  **CAMERA}).json()["id"]
        cam_c = client.post("/api/cameras", json={"name": "C", "rtsp_url": scenes["c"].url,
                                                  **CAMERA}).json()["id"]
        seen = wait_for(lambda: (s := sightings_by_camera(faces_instance)).get(cam_b)
                        and s.get(cam_c) and s, 90, what="sightings on B and C")

    identity_a = seen[cam_a]
    assert len(identity_a) == 1, seen
    assert seen[cam_b] == identity_a, seen          # same face → same identity
    assert not (seen[cam_c] & identity_a), describe(faces_instance)  # another face, another one
    manager = ray.get_actor(names.IDENTITY_MANAGER, namespace="faces")
    stats = ray.get(manager.stats.remote())
    assert stats["identities_with_faces"] >= 2
    assert stats["sightings_assigned"] >= 3


def test_enrolled_face_names_live_events(faces_instance, scenes) -> None:
    import cv2
    import numpy as np

    from iris.models.face_standins import draw_face

    photo = np.full((480, 640, 3), 80, np.uint8)
    draw_face(photo, (320, 240), 90, 5)  # the face camera C keeps seeing
    ok, jpeg = cv2.imencode(".jpg", photo)
    assert ok
    with faces_instance.client() as client:
        person = client.post("/api/people", json={"name": "Carol"}).json()["id"]
        enrolled = client.post(f"/api/people/{person}/faces",
                               files={"file": ("carol.jpg", jpeg.tobytes(), "image/jpeg")})
        assert enrolled.status_code == 201, enrolled.text
        enrolled_at = time.time()
        cameras = {c["name"]: c["id"] for c in client.get("/api/cameras").json()}

        def named_event() -> dict | None:
            items = client.get("/api/events", params={"camera_id": cameras["C"]}).json()["items"]
            return next((e for e in items if e["person_name"] == "Carol"
                         and e["created_at"] > _iso(enrolled_at)), None)

        event = wait_for(named_event, 60, what="a live event naming Carol")
        assert event["person_id"] == person and event["identity_id"] is not None
        identity = client.get(f"/api/identities/{event['identity_id']}").json()
        assert identity["person_id"] == person
        others = client.get("/api/events", params={"camera_id": cameras["A"]}).json()["items"]
        assert all(e["person_name"] != "Carol" for e in others)  # a different face


def _iso(epoch: float) -> str:
    from datetime import UTC, datetime

    return datetime.fromtimestamp(epoch, UTC).isoformat().replace("+00:00", "Z")


def test_enrolling_a_face_group_names_live_events(faces_instance, scenes) -> None:
    with faces_instance.client() as client:
        cameras = {c["name"]: c["id"] for c in client.get("/api/cameras").json()}
        groups = client.get("/api/face-groups", params={"face_threshold": 0.6}).json()["groups"]
        group_a = next(g for g in groups if cameras["A"] in g["cameras"])
        assert cameras["C"] not in group_a["cameras"]  # the other face is another group
        members = [m["id"] for m in group_a["members"]]
        enrolled = client.post("/api/face-groups/enroll",
                               json={"sample_ids": members, "name": "Alan"})
        assert enrolled.status_code == 200, enrolled.text
        assert 1 <= enrolled.json()["enrolled_faces"] <= 12
        enrolled_at = time.time()

        def named_event() -> dict | None:
            items = client.get("/api/events", params={"camera_id": cameras["A"]}).json()["items"]
            return next((e for e in items if e["person_name"] == "Alan"
                         and e["created_at"] > _iso(enrolled_at)), None)

        assert wait_for(named_event, 60, what="a live event naming Alan")
