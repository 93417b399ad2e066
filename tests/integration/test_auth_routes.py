"""Every /api route of the app refuses missing and wrong credentials through the Serve proxy."""

from __future__ import annotations

import re

import httpx
import pytest

from iris.serve.api import create_api


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
        ({"X-Email": "ann@example.com", "X-User": "Ann"}, "sso", "ann@example.com"),
        ({"X-Email": "ann@example.com", "Authorization": "Bearer nope"}, "sso",
         "ann@example.com"),
        ({"Authorization": "Bearer test-key-0123456789"}, "api_key", None),
    ],
)
def test_credentials_in_priority_order(iris, headers, via, email) -> None:
    response = httpx.get(f"{iris.base_url}/api/system", headers=headers, timeout=30)
    assert response.status_code == 200
    assert response.json()["user"]["via"] == via
    assert response.json()["user"]["email"] == email


def test_health_is_open_and_reports_shape(iris) -> None:
    body = httpx.get(f"{iris.base_url}/health", timeout=30).json()
    assert body["status"] == "ok"
    assert set(body["gpu"]) == {"used_mb", "total_mb"}
    assert isinstance(body["workers"], list)


def test_spa_is_served_at_root(iris) -> None:
    response = httpx.get(f"{iris.base_url}/", timeout=30)
    assert response.status_code == 200
    assert "<html" in response.text.lower()
