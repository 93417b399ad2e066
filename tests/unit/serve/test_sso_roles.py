"""SSO users get the role their groups map to (`role_map`), like Frigate's proxy role mapping;
the groups header counts only with the gateway's proof."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from iris.serve.api import create_api
from iris.settings import SettingsError, load_settings
from tests.support.api import api_client
from tests.support.runtime import FakeRuntime

SECRET = "unit-gateway-secret"
ROLE_MAP = {"nvr-admins": {"role": "admin"}, "family": {"role": "viewer"},
            "porch": {"cameras": [1]}, "garage": {"cameras": [2, 3]}}


def client_for(tmp_path: Path, **settings: Any) -> TestClient:
    values = {"sso_groups_header": "X-Groups", "role_map": ROLE_MAP, **settings}
    return api_client(create_api(load_settings(data_dir=tmp_path, api_key="k",
                                               sso_gateway_secret=SECRET, **values),
                                 FakeRuntime()))


def who(client: TestClient, groups: str | None, proof: str | None = SECRET) -> Any:
    headers = {"X-Email": "ann@example.com"}
    if groups is not None:
        headers["X-Groups"] = groups
    if proof is not None:
        headers["X-Iris-Gateway"] = proof
    response = client.get("/api/system", headers=headers)
    return response.json()["user"] if response.status_code == 200 else response.status_code


@pytest.mark.parametrize(("groups", "role", "cameras"), [
    ("nvr-admins", "admin", None),
    ("family", "viewer", None),
    ("porch", "viewer", [1]),
    (" porch , garage ", "viewer", [1, 2, 3]),   # several groups: the union of their cameras
    ("porch,family", "viewer", None),            # an unlimited group wins
    ("porch,nvr-admins", "admin", None),         # admin wins
    ("strangers", "viewer", None),               # no mapped group: sso_default_role
    (None, "viewer", None),
])
def test_groups_map_to_a_role_and_cameras(tmp_path: Path, groups: str | None, role: str,
                                          cameras: list[int] | None) -> None:
    user = who(client_for(tmp_path), groups)
    assert (user["via"], user["role"], user["cameras"]) == ("sso", role, cameras)


def test_a_user_in_no_mapped_group_can_be_refused(tmp_path: Path) -> None:
    client = client_for(tmp_path, sso_default_role="none")
    response = client.get("/api/cameras", headers={"X-Email": "eve@example.com",
                                                   "X-Groups": "strangers",
                                                   "X-Iris-Gateway": SECRET})
    assert response.status_code == 403
    assert response.json()["detail"] == ("Signed in as eve@example.com, but none of your "
                                         "groups may use Iris: ask an administrator to add "
                                         "one to role_map.")
    assert who(client, "family")["role"] == "viewer"


def test_the_groups_header_without_the_gateway_proof_is_no_sso(tmp_path: Path) -> None:
    client = client_for(tmp_path)
    assert who(client, "nvr-admins", proof=None) == 401
    assert who(client, "nvr-admins", proof="forged") == 401


def test_an_sso_viewer_cannot_change_anything(tmp_path: Path) -> None:
    client = client_for(tmp_path)
    headers = {"X-Email": "kid@example.com", "X-Groups": "family", "X-Iris-Gateway": SECRET}
    response = client.post("/api/cameras", headers=headers,
                           json={"name": "x", "rtsp_url": "rtsp://192.0.2.1/s"})
    assert response.status_code == 403
    assert response.json()["detail"] == ("Viewers cannot change cameras: this needs the admin "
                                         "role.")
    admin = {**headers, "X-Groups": "nvr-admins"}
    response = client.post("/api/cameras", headers=admin,
                           json={"name": "x", "rtsp_url": "rtsp://192.0.2.1/s",
                                 "enabled": False})
    assert response.status_code == 201, response.text


def test_the_configured_api_key_stays_the_admin_key(tmp_path: Path) -> None:
    user = client_for(tmp_path).get("/api/system", headers={"Authorization": "Bearer k"}).json()
    assert user["user"]["role"] == "admin" and user["user"]["cameras"] is None


@pytest.mark.parametrize(("role_map", "says"), [
    ({"ops": {"role": "admin", "cameras": [1]}}, "an admin sees every camera"),
    ({"ops": {"role": "viewer", "cameras": []}}, "at least one camera"),
    ({"ops": {"role": "owner"}}, "role_map.ops.role"),
])
def test_a_role_map_that_cannot_work_stops_start_up(role_map: dict, says: str) -> None:
    with pytest.raises(SettingsError, match=says):
        load_settings(role_map=role_map)
