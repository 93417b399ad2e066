"""/api/people without Ray: enrollment through the runtime's recognizer, deletes, reloads."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session

from iris.db.tables import Event, FaceEmbedding, Person
from iris.models.face_types import FaceHit
from iris.serve.errors import FACES_NOT_RUNNING, ServiceUnavailable
from tests.support.factories import camera_row, event_row, person_row, unit_vector
from tests.support.runtime import FakeRuntime
from tests.unit.serve.conftest import engine_of, make_client


def photo() -> bytes:
    ok, jpeg = cv2.imencode(".jpg", np.full((64, 80, 3), 128, np.uint8))
    assert ok
    return jpeg.tobytes()


def hit(side: float, seed: int) -> FaceHit:
    return FaceHit(bbox=(0.0, 0.0, side, side), det_score=0.9,
                   kps=np.zeros((5, 2), np.float32), embedding=unit_vector(seed))


def enroll(client: TestClient, person_id: int) -> tuple[int, dict[str, object]]:
    response = client.post(f"/api/people/{person_id}/faces",
                           files={"file": ("me.jpg", photo(), "image/jpeg")})
    return response.status_code, response.json()


@pytest.fixture
def person_id(client: TestClient) -> int:
    created = client.post("/api/people", json={"name": "Ada"})
    assert created.status_code == 201
    return int(created.json()["id"])


def test_enrollment_stores_the_largest_face_and_reloads_the_gallery(
    client: TestClient, runtime: FakeRuntime, person_id: int
) -> None:
    small, large = hit(20, 1), hit(40, 2)
    runtime.faces = [small, large]
    status, body = enroll(client, person_id)
    assert status == 201, body
    assert body["faces_detected"] == 2
    assert runtime.called("detect_faces") == [((64, 80, 3),)]
    assert runtime.called("reload_people") == [()]
    with Session(engine_of(client)) as session:
        row = session.get(FaceEmbedding, body["embedding_id"])
        assert row is not None and row.person_id == person_id
        assert np.array_equal(np.frombuffer(row.vector, np.float32), large.embedding)
    assert client.get(f"/api/people/{person_id}").json()["num_faces"] == 1
    image = client.get(f"/api/people/{person_id}/faces/{body['embedding_id']}/image")
    assert image.status_code == 200 and image.content[:2] == b"\xff\xd8"


@pytest.mark.parametrize(("faces", "status", "detail"), [
    ([], 422, "No face detected in the photo: upload one with a clear face."),
    (ServiceUnavailable(FACES_NOT_RUNNING), 503, FACES_NOT_RUNNING),
    (ServiceUnavailable("Face recognizer unavailable: no models"), 503,
     "Face recognizer unavailable: no models"),
])
def test_enrollment_without_a_face_or_a_recognizer_stores_nothing(
    client: TestClient, runtime: FakeRuntime, person_id: int, faces: object, status: int,
    detail: str
) -> None:
    runtime.faces = faces  # type: ignore[assignment]
    got, body = enroll(client, person_id)
    assert (got, body["detail"]) == (status, detail)
    assert client.get(f"/api/people/{person_id}/faces").json() == []
    assert runtime.called("reload_people") == []


def test_the_app_without_ray_has_no_recognizer(tmp_path: Path) -> None:
    with make_client(tmp_path, None) as client:
        person = client.post("/api/people", json={"name": "Bo"}).json()["id"]
        assert enroll(client, person) == (503, {"detail": FACES_NOT_RUNNING})


def test_a_gallery_that_does_not_reload_leaves_the_delete_standing(
    client: TestClient, runtime: FakeRuntime, person_id: int
) -> None:
    runtime.reload_error = ServiceUnavailable("identity layer away")
    assert client.delete(f"/api/people/{person_id}").status_code == 204
    assert client.get(f"/api/people/{person_id}").status_code == 404
    assert runtime.called("reload_people") == [()]


def test_deletes_detach_events_and_clear_all_needs_confirm(
    client: TestClient, runtime: FakeRuntime
) -> None:
    with Session(engine_of(client)) as session:
        camera = camera_row(session)
        people = [person_row(session, name=f"P{i}", faces=2) for i in range(3)]
        assert camera.id is not None and people[0].id is not None
        event_id = event_row(session, camera_id=camera.id, person_id=people[0].id,
                             person_name="P0").id
        ids = [p.id for p in people]
        session.commit()
    assert client.post("/api/people/bulk-delete", json={"ids": [ids[0], 999]}).json() == {
        "deleted": 1}
    with Session(engine_of(client)) as session:
        event = session.get(Event, event_id)
        assert event is not None and (event.person_id, event.person_name) == (None, "P0")
    refused = client.post("/api/people/clear-all", json={})
    assert refused.status_code == 400
    assert refused.json()["detail"] == (
        'Refusing to delete all people: send {"confirm": true} to confirm.')
    assert client.post("/api/people/clear-all", json={"confirm": True}).json() == {"deleted": 2}
    with Session(engine_of(client)) as session:
        assert session.query(Person).count() == 0 and session.query(FaceEmbedding).count() == 0
    assert len(runtime.called("reload_people")) == 2


def test_a_face_of_another_person_is_404(client: TestClient) -> None:
    with Session(engine_of(client)) as session:
        ada, bo = person_row(session, name="Ada", faces=1), person_row(session, name="Bo")
        session.commit()
        face_id = session.query(FaceEmbedding).one().id
        ada_id, bo_id = ada.id, bo.id
    assert client.get(f"/api/people/{bo_id}/faces/{face_id}/image").json() == {
        "detail": "Face not found."}
    assert client.delete(f"/api/people/{ada_id}/faces/{face_id}").status_code == 204
    assert client.get("/api/people/999/faces").json() == {"detail": "Person not found."}
