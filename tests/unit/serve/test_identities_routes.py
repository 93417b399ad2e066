"""/api/identities corrections without Ray: the runtime's answers, and the in-process fallback."""

from __future__ import annotations

from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session

from iris import names
from iris.db.tables import Identity
from iris.identity import IdentityNotFound, OpResult
from iris.serve.errors import IDENTITY_RESTARTED, ServiceUnavailable
from tests.support.factories import camera_row, identity_row, sighting_row
from tests.support.runtime import FakeRuntime
from tests.unit.serve.conftest import engine_of, make_client


def seed(client: TestClient, identities: int, *, object_class: str = "person") -> list[int]:
    """`identities` identities with one sighting each on one camera."""
    with Session(engine_of(client)) as session:
        camera = camera_row(session)
        assert camera.id is not None
        ids = []
        for _ in range(identities):
            identity = identity_row(session, object_class=object_class, num_sightings=1)
            assert identity.id is not None
            sighting_row(session, identity_id=identity.id, camera_id=camera.id)
            ids.append(identity.id)
        session.commit()
    return ids


def test_merge_goes_to_the_runtime_and_answers_its_result(
    client: TestClient, runtime: FakeRuntime
) -> None:
    runtime.identity_result = OpResult(ok=True, target_id=1, affected_ids=[2, 3],
                                       moved_sightings=4, detail="merged")
    response = client.post("/api/identities/merge", json={"target_id": 1, "source_ids": [2, 3]})
    assert response.status_code == 200
    assert response.json() == {"ok": True, "target_id": 1, "affected_ids": [2, 3],
                               "moved_sightings": 4, "detail": "merged"}
    assert runtime.called("identity_merge") == [(1, [2, 3])]


@pytest.mark.parametrize(("error", "status", "detail"), [
    (IdentityNotFound(7), 404, "Identity 7 not found."),
    (ValueError("cannot merge an identity into itself"), 400,
     "cannot merge an identity into itself"),
    (ServiceUnavailable(IDENTITY_RESTARTED), 503, IDENTITY_RESTARTED),
])
def test_the_identity_layers_refusals_map_to_statuses(
    tmp_path: Path, error: Exception, status: int, detail: str
) -> None:
    with make_client(tmp_path, FakeRuntime(identity_result=error)) as client:
        for method, path, body in (
            ("POST", "/api/identities/merge", {"target_id": 1, "source_ids": [2]}),
            ("POST", "/api/identities/1/split", {"sighting_ids": [3]}),
            ("DELETE", "/api/identities/1", None),
        ):
            response = client.request(method, path, json=body)
            assert (response.status_code, response.json()["detail"]) == (status, detail), path


def test_split_needs_ids_or_auto_and_auto_needs_the_identity_layer(
    client: TestClient, runtime: FakeRuntime
) -> None:
    assert client.post("/api/identities/1/split", json={}).status_code == 400
    client.post("/api/identities/1/split", json={"auto": True, "new_name": "Bo"})
    client.post("/api/identities/1/split", json={"sighting_ids": [4, 5], "auto": True})
    assert runtime.called("identity_split") == [(1, None, True, "Bo"), (1, [4, 5], False, None)]
    runtime.identity_up = False
    refused = client.post("/api/identities/1/split", json={"auto": True})
    assert refused.status_code == 501
    assert names.IDENTITY_MANAGER in refused.json()["detail"]


def test_delete_of_an_unknown_identity_is_404(client: TestClient, runtime: FakeRuntime) -> None:
    runtime.identity_result = OpResult(ok=False, affected_ids=[])
    response = client.delete("/api/identities/9")
    assert (response.status_code, response.json()["detail"]) == (404, "Identity not found.")
    runtime.identity_result = OpResult(ok=True, affected_ids=[9])
    assert client.delete("/api/identities/9").status_code == 204


def test_clear_all_needs_confirm_and_deletes_one_chunk_per_call(
    client: TestClient, runtime: FakeRuntime
) -> None:
    people = seed(client, 450)
    cars = seed(client, 3, object_class="car")
    refused = client.post("/api/identities/clear-all", json={})
    assert refused.status_code == 400
    assert refused.json()["detail"] == (
        'Refusing to delete all identities: send {"confirm": true} to confirm.')
    runtime.identity_result = OpResult(ok=True, affected_ids=[1, 2])
    response = client.post("/api/identities/clear-all",
                           json={"confirm": True, "object_class": "person"})
    assert response.json() == {"deleted": 6}  # three calls, two "affected" each
    calls = [ids for (ids,) in runtime.called("identity_delete")]
    assert [len(ids) for ids in calls] == [200, 200, 50]
    assert sum(calls, []) == people and not set(cars) & set(sum(calls, []))


def test_bulk_delete_of_nothing_asks_nobody(client: TestClient, runtime: FakeRuntime) -> None:
    assert client.post("/api/identities/bulk-delete", json={"ids": []}).json() == {"deleted": 0}
    assert runtime.called("identity_delete") == []


def test_without_ray_corrections_run_in_process(tmp_path: Path) -> None:
    with make_client(tmp_path, None) as client:  # the app's own OfflineRuntime
        x, y, z = seed(client, 3)
        merged = client.post("/api/identities/merge", json={"target_id": x, "source_ids": [y]})
        assert merged.status_code == 200, merged.text
        assert merged.json()["moved_sightings"] == 1
        assert client.post(f"/api/identities/{x}/split", json={"auto": True}).status_code == 501
        assert client.post("/api/identities/merge",
                           json={"target_id": x, "source_ids": [999]}).status_code == 404
        assert client.delete(f"/api/identities/{z}").status_code == 204
        with Session(engine_of(client)) as session:
            assert session.get(Identity, y) is None and session.get(Identity, z) is None
            survivor = session.get(Identity, x)
            assert survivor is not None and survivor.num_sightings == 2


def test_rename_names_and_null_unnames(client: TestClient) -> None:
    [identity_id] = seed(client, 1)
    named = client.put(f"/api/identities/{identity_id}", json={"name": "Ada"}).json()
    assert (named["name"], named["is_named"]) == ("Ada", True)
    kept = client.put(f"/api/identities/{identity_id}",
                      json={"name": None, "is_named": True}).json()
    assert (kept["name"], kept["is_named"]) == (None, True)
    cleared = client.put(f"/api/identities/{identity_id}", json={"name": None}).json()
    assert cleared["is_named"] is False
    assert client.put("/api/identities/999", json={}).status_code == 404
