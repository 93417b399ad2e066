"""API keys besides the configured one: created by an admin, stored hashed, revoked at once."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session, select

from iris.db.keys import TOKEN, hash_secret
from iris.db.tables import ApiKey
from iris.serve.api import create_api
from iris.settings import load_settings
from tests.support.api import api_client
from tests.support.factories import camera_row
from tests.support.runtime import FakeRuntime

KEY = "unit-admin-key"
ADMIN = {"Authorization": f"Bearer {KEY}"}


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


@pytest.fixture
def client(tmp_path: Path) -> Iterator[TestClient]:
    app = create_api(load_settings(data_dir=tmp_path, api_key=KEY), FakeRuntime())
    with Session(app.state.engine) as session:
        camera_row(session, name="Porch")
        session.commit()
    with api_client(app) as test_client:
        yield test_client


def create(client: TestClient, headers: dict[str, str] = ADMIN, **body: object) -> dict:
    response = client.post("/api/system/keys", json=body, headers=headers)
    assert response.status_code == 201, response.text
    return response.json()  # type: ignore[no-any-return]


def test_a_created_key_works_with_its_role_and_is_stored_only_as_a_hash(
        client: TestClient) -> None:
    made = create(client, name="kitchen-tablet", role="viewer", cameras=[1])
    token = made.pop("token")
    assert TOKEN.fullmatch(token)
    assert made["name"] == "kitchen-tablet" and made["role"] == "viewer"
    assert made["cameras"] == [1] and token.startswith(f"iris_{made['key_id']}_")

    me = client.get("/api/system", headers=bearer(token)).json()["user"]
    assert me == {"email": None, "name": "kitchen-tablet", "via": "api_key",
                  "role": "viewer", "cameras": [1]}
    listed = client.get("/api/system/keys", headers=ADMIN).json()
    assert [k["key_id"] for k in listed] == [made["key_id"]]
    assert "token" not in listed[0] and token not in client.get(
        "/api/system/keys", headers=ADMIN).text

    engine = client.app.state.engine  # type: ignore[attr-defined]
    with Session(engine) as session:
        row = session.exec(select(ApiKey)).one()
    secret = token.removeprefix(f"iris_{made['key_id']}_")
    assert row.secret_sha256 == hash_secret(secret)
    assert secret not in (row.secret_sha256, row.key_id, row.name)


def test_an_admin_key_may_do_what_the_configured_key_does(client: TestClient) -> None:
    token = create(client, name="ops", role="admin")["token"]
    response = client.post("/api/cameras", headers=bearer(token),
                           json={"name": "Yard", "rtsp_url": "rtsp://192.0.2.9/s",
                                 "enabled": False})
    assert response.status_code == 201, response.text
    assert create(client, bearer(token), name="second")["role"] == "viewer"


def test_revoking_a_key_refuses_its_next_request(client: TestClient) -> None:
    made = create(client, name="old-phone")
    assert client.get("/api/cameras", headers=bearer(made["token"])).status_code == 200
    assert client.delete("/api/system/keys/old-phone", headers=ADMIN).status_code == 204
    refused = client.get("/api/cameras", headers=bearer(made["token"]))
    assert refused.status_code == 401 and refused.json()["detail"] == "Invalid API key."
    gone = client.delete(f"/api/system/keys/{made['key_id']}", headers=ADMIN)
    assert gone.status_code == 404 and gone.json()["detail"] == "API key not found."


def test_a_viewer_key_cannot_make_keys(client: TestClient) -> None:
    token = create(client, name="viewer")["token"]
    for method, path in (("GET", "/api/system/keys"), ("POST", "/api/system/keys"),
                         ("DELETE", "/api/system/keys/viewer")):
        response = client.request(method, path, headers=bearer(token), json={"name": "x"})
        assert response.status_code == 403, (method, path)
        assert response.json()["detail"] == ("Viewers cannot manage API keys: this needs the "
                                             "admin role.")


@pytest.mark.parametrize(("body", "status", "says"), [
    ({"name": "x", "role": "admin", "cameras": [1]}, 422, "an admin sees every camera"),
    ({"name": "x", "cameras": [1, 7]}, 422, "no camera #7"),
    ({"name": "x", "cameras": []}, 422, "at least 1"),
    ({"name": "x", "role": "root"}, 422, "role"),
    ({"name": " spaces"}, 422, "name"),
])
def test_a_bad_key_request_says_what_is_wrong(client: TestClient, body: dict, status: int,
                                              says: str) -> None:
    response = client.post("/api/system/keys", json=body, headers=ADMIN)
    assert response.status_code == status, response.text
    assert says in response.text


def test_a_name_is_one_key(client: TestClient) -> None:
    create(client, name="tablet")
    response = client.post("/api/system/keys", json={"name": "tablet"}, headers=ADMIN)
    assert response.status_code == 409
    assert response.json()["detail"] == "An API key named 'tablet' exists already."


@pytest.mark.parametrize("token", ["iris_0123456789abcdef_" + "A" * 43, "iris_nope", "x" * 60])
def test_unknown_tokens_are_invalid_keys(client: TestClient, token: str) -> None:
    response = client.get("/api/cameras", headers=bearer(token))
    assert response.status_code == 401 and response.json()["detail"] == "Invalid API key."


def test_a_forged_secret_for_a_real_key_id_is_refused(client: TestClient) -> None:
    made = create(client, name="real")
    forged = f"iris_{made['key_id']}_" + "B" * 43
    assert client.get("/api/cameras", headers=bearer(forged)).status_code == 401
