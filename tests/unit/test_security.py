"""The request guards without Ray: gateway proof, cross-site refusal, headers, hosts, /health."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from iris.messages import CameraState
from iris.serve.api import create_api
from iris.serve.security import CONTENT_SECURITY_POLICY, same_origin
from iris.settings import load_settings
from tests.support.api import api_client
from tests.support.runtime import FakeRuntime

KEY = "unit-key"
SECRET = "gateway-secret"
CAMERA = {"name": "Door", "rtsp_url": "rtsp://192.0.2.10/stream1", "enabled": False}


def client_for(tmp_path: Path, runtime: Any = None, **settings: Any) -> TestClient:
    return api_client(create_api(load_settings(data_dir=tmp_path, api_key=KEY, **settings),
                                 runtime))


def whoami(client: TestClient, **headers: str) -> tuple[int, str | None]:
    response = client.get("/api/system", headers=headers)
    via = response.json()["user"]["via"] if response.status_code == 200 else None
    return response.status_code, via


# ---------------------------------------------------------------- the gateway's proof
def test_sso_header_is_ignored_without_a_configured_secret(tmp_path: Path) -> None:
    client = client_for(tmp_path)
    assert whoami(client, **{"X-Email": "anyone"}) == (401, None)
    assert whoami(client, **{"X-Email": "anyone", "X-Iris-Gateway": ""}) == (401, None)


@pytest.mark.parametrize("proof", [None, "", "wrong", SECRET + " ", SECRET.upper()])
def test_sso_header_needs_the_exact_gateway_proof(tmp_path: Path, proof: str | None) -> None:
    client = client_for(tmp_path, sso_gateway_secret=SECRET)
    headers = {"X-Email": "ann@example.com"}
    if proof is not None:
        headers["X-Iris-Gateway"] = proof
    assert whoami(client, **headers) == (401, None)


def test_sso_header_with_the_gateway_proof_signs_in(tmp_path: Path) -> None:
    client = client_for(tmp_path, sso_gateway_secret=SECRET)
    headers = {"X-Email": "ann@example.com", "X-Iris-Gateway": SECRET}
    assert whoami(client, **headers) == (200, "sso")
    # SSO first, then bearer, as the contract orders them.
    assert whoami(client, **headers, Authorization="Bearer nope") == (200, "sso")
    assert whoami(client, Authorization=f"Bearer {KEY}") == (200, "api_key")


def test_two_gateway_proofs_are_no_proof(tmp_path: Path) -> None:
    client = client_for(tmp_path, sso_gateway_secret=SECRET)
    response = client.get("/api/system", headers=[("X-Email", "ann@example.com"),
                                                  ("X-Iris-Gateway", "forged"),
                                                  ("X-Iris-Gateway", SECRET)])
    assert response.status_code == 401


# ---------------------------------------------------------------- cross-site requests
def test_cross_site_mutation_is_refused_and_changes_nothing(tmp_path: Path) -> None:
    client = client_for(tmp_path)
    auth = {"Authorization": f"Bearer {KEY}"}
    for hostile in ({"Sec-Fetch-Site": "cross-site"}, {"Sec-Fetch-Site": "same-site"},
                    {"Origin": "https://evil.example"}, {"Origin": "null"},
                    {"Origin": "http://127.0.0.1:9999"}):
        response = client.post("/api/cameras", json=CAMERA, headers={**auth, **hostile})
        assert response.status_code == 403, hostile
        assert response.json()["detail"] == "Cross-site request refused."
    assert client.get("/api/cameras", headers=auth).json() == []


def test_same_origin_and_plain_clients_may_mutate(tmp_path: Path) -> None:
    client = client_for(tmp_path)
    auth = {"Authorization": f"Bearer {KEY}"}
    assert client.post("/api/cameras", json=CAMERA, headers=auth).status_code == 201  # curl
    same = {"Sec-Fetch-Site": "same-origin", "Origin": "http://127.0.0.1"}
    assert client.post("/api/cameras", json=CAMERA, headers={**auth, **same}).status_code == 201
    # Reading is never refused: a cross-site <img> of a snapshot is the browser's business.
    cross_read = client.get("/api/cameras", headers={**auth, "Sec-Fetch-Site": "cross-site"})
    assert cross_read.status_code == 200 and len(cross_read.json()) == 2


@pytest.mark.parametrize(("origin", "host", "same"), [
    ("http://127.0.0.1:8000", "127.0.0.1:8000", True),
    ("http://127.0.0.1:8001", "127.0.0.1:8000", False),
    ("https://iris.example.com", "iris.example.com", True),
    ("https://iris.example.com:8443", "iris.example.com", False),
    ("https://iris.example.com:8443", "iris.example.com:8443", True),  # nginx: $http_host
    ("https://evil.example", "iris.example.com", False),
    ("https://iris.example.com", "iris.example.com:443", True),
    ("http://iris.example.com", "iris.example.com:443", False),
    ("null", "127.0.0.1", False),
    ("file://", "127.0.0.1", False),
])
def test_same_origin(origin: str, host: str, same: bool) -> None:
    assert same_origin(origin, host) is same


# ---------------------------------------------------------------- headers and hosts
@pytest.mark.parametrize("path", ["/", "/health", "/api/cameras", "/api/nope", "/js/app.js"])
def test_every_response_carries_the_security_headers(tmp_path: Path, path: str) -> None:
    response = client_for(tmp_path).get(path)
    assert response.headers["content-security-policy"] == CONTENT_SECURITY_POLICY
    assert "frame-ancestors 'none'" in CONTENT_SECURITY_POLICY
    assert "default-src 'self'" in CONTENT_SECURITY_POLICY
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["referrer-policy"] == "same-origin"


def test_unknown_hosts_are_refused(tmp_path: Path) -> None:
    client = client_for(tmp_path, allowed_hosts=["iris.example.com"])
    assert client.get("/health", headers={"Host": "evil.example"}).status_code == 400
    assert client.get("/health", headers={"Host": "iris.example.com"}).status_code == 200
    assert client.get("/health", headers={"Host": "localhost:8000"}).status_code == 200


# ---------------------------------------------------------------- /health
def busy_runtime() -> FakeRuntime:
    return FakeRuntime(states={3: CameraState(
        status="error", last_seen=0.0, name="Back door", reason="rtsp://u:p@10.0.0.3 refused",
        pid=4242, node="abc", fps=25.0, frames_decoded=9)})


def test_health_says_only_up_or_down(tmp_path: Path) -> None:
    body = client_for(tmp_path, busy_runtime()).get("/health").json()
    assert set(body) == {"status", "version", "gpu", "workers"}
    assert body["workers"] == [{"camera_id": 3, "status": "error"}]
    for secret in ("Back door", "10.0.0.3", "4242", "abc"):
        assert secret not in str(body)


def test_system_still_shows_the_full_worker_state(tmp_path: Path) -> None:
    client = client_for(tmp_path, busy_runtime())
    body = client.get("/api/system", headers={"Authorization": f"Bearer {KEY}"}).json()
    assert body["workers"][0]["name"] == "Back door"


def test_json_body_without_json_content_type_is_not_parsed(tmp_path: Path) -> None:
    """A form can POST text/plain cross-site without a preflight: it must not count as JSON."""
    import json

    client = client_for(tmp_path)
    auth = {"Authorization": f"Bearer {KEY}"}
    for content_type in ("text/plain", None):
        headers = {**auth, **({"Content-Type": content_type} if content_type else {})}
        response = client.post("/api/cameras", content=json.dumps(CAMERA), headers=headers)
        assert response.status_code == 422, (content_type, response.text)
    assert client.get("/api/cameras", headers=auth).json() == []
