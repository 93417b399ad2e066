"""Every /api route of the app refuses missing and wrong credentials through the Serve proxy."""

from __future__ import annotations

import re

import httpx
import pytest

from iris.serve.api import create_api
from tests.integration.conftest import GATEWAY_SECRET

GATEWAY = {"X-Iris-Gateway": GATEWAY_SECRET}


def api_routes(settings) -> list[tuple[str, str]]:
    """Every (method, path) of the app's schema under /api, path parameters filled with 1."""
    schema = create_api(settings).openapi()
    routes = [("GET", "/api/openapi.json")]
    for path, operations in schema["paths"].items():
        if path.startswith("/api"):
            concrete = re.sub(r"\{[^}]+\}", "1", path)
            routes.extend((method.upper(), concrete) for method in sorted(operations))
    return routes


def test_route_list_covers_the_resources(iris) -> None:
    paths = {path for _, path in api_routes(iris.settings)}
    assert "/api/cameras" in paths and "/api/system" in paths
    assert len(paths) >= 5


def test_every_api_route_requires_credentials(iris) -> None:
    routes = api_routes(iris.settings)
    with httpx.Client(base_url=iris.base_url, timeout=30) as client:
        for method, path in routes:
            missing = client.request(method, path)
            assert missing.status_code == 401, (method, path, missing.text)
            assert missing.json()["detail"] == "Authentication required.", (method, path)
            assert missing.headers["www-authenticate"] == "Bearer"

            wrong = client.request(method, path, headers={"Authorization": "Bearer nope"})
            assert wrong.status_code == 401, (method, path)
            assert wrong.json()["detail"] == "Invalid API key.", (method, path)


@pytest.mark.parametrize(
    ("headers", "via", "email"),
    [
        ({"X-Email": "ann@example.com", "X-User": "Ann", **GATEWAY}, "sso", "ann@example.com"),
        ({"X-Email": "ann@example.com", "Authorization": "Bearer nope", **GATEWAY}, "sso",
         "ann@example.com"),
        ({"Authorization": "Bearer test-key-0123456789"}, "api_key", None),
    ],
)
def test_credentials_in_priority_order(iris, headers, via, email) -> None:
    response = httpx.get(f"{iris.base_url}/api/system", headers=headers, timeout=30)
    assert response.status_code == 200
    assert response.json()["user"]["via"] == via
    assert response.json()["user"]["email"] == email


@pytest.mark.parametrize("proof", [None, "forged", GATEWAY_SECRET + "x"])
def test_sso_header_without_the_gateway_proof_is_refused(iris, proof) -> None:
    """The issue's reproduction: `X-Email: anyone` straight at the app, no key → 401."""
    headers = {"X-Email": "anyone", **({"X-Iris-Gateway": proof} if proof else {})}
    with httpx.Client(base_url=iris.base_url, timeout=30, headers=headers) as client:
        for method, path in (("GET", "/api/cameras"), ("POST", "/api/cameras")):
            response = client.request(method, path, json={"name": "x", "rtsp_url":
                                      "file:concat:/etc/passwd|/etc/hostname"})
            assert response.status_code == 401, (method, path, response.text)
            assert response.json()["detail"] == "Authentication required."


def test_reproduction_with_a_key_is_a_422_naming_rtsp_url(iris) -> None:
    body = {"name": "x", "rtsp_url": "file:concat:/etc/passwd|/etc/hostname"}
    response = httpx.post(f"{iris.base_url}/api/cameras", json=body, headers=iris.headers,
                          timeout=30)
    assert response.status_code == 422, response.text
    assert "rtsp_url" in str(response.json()["detail"])


def test_health_is_open_and_says_only_up_or_down(iris) -> None:
    body = httpx.get(f"{iris.base_url}/health", timeout=30).json()
    assert set(body) == {"status", "version", "gpu", "workers"}
    assert body["status"] == "ok"
    assert set(body["gpu"]) == {"used_mb", "total_mb"}
    assert isinstance(body["workers"], list)
    assert all(set(worker) == {"camera_id", "status"} for worker in body["workers"])


def test_unknown_host_header_finds_nothing(iris) -> None:
    """DNS rebinding: a page on evil.example resolved to 127.0.0.1 sends its own Host."""
    for path in ("/health", "/", "/api/cameras"):
        response = httpx.get(f"{iris.base_url}{path}", headers={"Host": "evil.example",
                             **iris.headers}, timeout=30)
        assert response.status_code == 400, (path, response.text)


def test_spa_is_served_at_root(iris) -> None:
    response = httpx.get(f"{iris.base_url}/", timeout=30)
    assert response.status_code == 200
    assert "<html" in response.text.lower()
