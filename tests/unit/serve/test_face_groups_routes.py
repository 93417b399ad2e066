"""/api/face-groups without Ray: enroll a group (and reload the gallery), label, delete."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlmodel import Session

from iris.db.tables import FaceEmbedding, FaceSample, Person
from tests.support.factories import camera_row, face_sample_row
from tests.support.runtime import FakeRuntime
from tests.unit.serve.conftest import engine_of


def samples(client: TestClient, count: int, **fields: object) -> list[int]:
    with Session(engine_of(client)) as session:
        camera = camera_row(session)
        assert camera.id is not None
        ids = [face_sample_row(session, camera_id=camera.id, seed=i, quality=i / 100,
                               **fields).id for i in range(count)]
        session.commit()
    return [i for i in ids if i is not None]


def test_enrolling_a_group_makes_a_person_of_its_best_faces(
    client: TestClient, runtime: FakeRuntime
) -> None:
    ids = samples(client, 15)
    response = client.post("/api/face-groups/enroll", json={"sample_ids": ids, "name": "Cy"})
    assert response.status_code == 200, response.text
    body = response.json()
    assert (body["name"], body["enrolled_faces"]) == ("Cy", 12)
    assert runtime.called("reload_people") == [()]
    with Session(engine_of(client)) as session:
        assert session.get(Person, body["person_id"]) is not None
        assert session.query(FaceEmbedding).count() == 12
        assert {s.label for s in session.query(FaceSample)} == {"Cy"}
    missing = client.post("/api/face-groups/enroll", json={"sample_ids": [999], "name": "X"})
    assert (missing.status_code, missing.json()["detail"]) == (404, "No face samples found.")


def test_label_then_clear_all_of_that_label_only(client: TestClient) -> None:
    ids = samples(client, 5)
    labelled = client.post("/api/face-groups/label",
                           json={"sample_ids": ids[:3] + [999], "label": "  Dee "})
    assert labelled.json() == {"updated": 3, "label": "Dee"}
    refused = client.post("/api/face-groups/samples/clear-all", json={"label": "Dee"})
    assert refused.status_code == 400
    assert refused.json()["detail"] == (
        'Refusing to delete all face samples: send {"confirm": true} to confirm.')
    cleared = client.post("/api/face-groups/samples/clear-all",
                          json={"confirm": True, "label": "Dee"})
    assert cleared.json() == {"deleted": 3}
    assert client.post("/api/face-groups/samples/bulk-delete",
                       json={"ids": ids}).json() == {"deleted": 2}
    assert client.delete(f"/api/face-groups/samples/{ids[0]}").json() == {
        "detail": "Face sample not found."}
