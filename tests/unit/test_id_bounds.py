"""Ids past what a 64-bit INTEGER column holds are a 422 on every route, never a DB overflow.

Found by the schemathesis run (tests/integration/test_fuzz.py): SQLite raised OverflowError
(a 500) for `/api/events/18446744073709551616/clip` and the like. Every route with an id in
its path is checked here, so a route added later without `IdPath` fails too.
"""

from __future__ import annotations

import re
import tempfile
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient

from iris.serve.api import create_api
from iris.serve.schemas.ids import DB_ID_MAX
from iris.settings import load_settings
from tests.support.api import api_client

KEY = "unit-key"
OUT_OF_RANGE = [DB_ID_MAX + 1, 2**64, -(DB_ID_MAX + 1) - 1, 0]
PATH_PARAM = re.compile(r"\{(\w+)\}")
NON_ID_VALUES = {"segment": "seg00000.ts"}


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    settings = load_settings(data_dir=tmp_path_factory.mktemp("ids"), api_key=KEY)
    with api_client(create_api(settings), headers={"Authorization": f"Bearer {KEY}"}) as c:
        yield c


def id_routes() -> list[tuple[str, str, str | None]]:
    """(method, path, body media type) of every route with an id in its path."""
    with tempfile.TemporaryDirectory() as folder:
        app = create_api(load_settings(data_dir=folder, api_key=KEY))
        app.state.engine.dispose()
    routes = [
        (method.upper(), path, next(iter(op.get("requestBody", {}).get("content", {})), None))
        for path, methods in app.openapi()["paths"].items() if "_id}" in path
        for method, op in methods.items()
    ]
    assert len(routes) > 30, routes
    return routes


def fill(path: str, value: int) -> str:
    return PATH_PARAM.sub(lambda m: NON_ID_VALUES.get(m.group(1), str(value)), path)


BODIES: dict[str | None, dict[str, Any]] = {
    None: {},
    "application/json": {"json": {}},
    "multipart/form-data": {"files": {"file": ("face.jpg", b"\xff\xd8", "image/jpeg")}},
}


@pytest.mark.parametrize(("method", "path", "media_type"), id_routes())
@pytest.mark.parametrize("value", OUT_OF_RANGE)
def test_path_ids_out_of_range_are_422(client: TestClient, method: str, path: str,
                                       media_type: str | None, value: int) -> None:
    response = client.request(method, fill(path, value), **BODIES[media_type])
    assert response.status_code == 422, (method, path, response.text)


@pytest.mark.parametrize(("url", "params"), [
    ("/api/events", {"camera_id": 2**64}),
    ("/api/events", {"person_id": DB_ID_MAX + 1}),
    ("/api/events", {"offset": 2**64}),
    ("/api/identities", {"offset": 2**64}),
    ("/api/identities", {"min_sightings": 2**64}),
])
def test_query_ids_out_of_range_are_422(client: TestClient, url: str,
                                        params: dict[str, int]) -> None:
    assert client.get(url, params=params).status_code == 422


@pytest.mark.parametrize(("url", "body"), [
    ("/api/events/bulk-delete", {"ids": [1, 2**64]}),
    ("/api/events/clear-all", {"confirm": True, "camera_id": 2**64}),
    ("/api/people/bulk-delete", {"ids": [DB_ID_MAX + 1]}),
    ("/api/identities/bulk-delete", {"ids": [DB_ID_MAX + 1]}),
    ("/api/identities/merge", {"target_id": 1, "source_ids": [2**64]}),
    ("/api/face-groups/label", {"sample_ids": [2**64], "label": "x"}),
    ("/api/face-groups/clips", {"sample_ids": [-(2**63) - 1]}),
    ("/api/face-groups/enroll", {"sample_ids": [2**64], "name": "x"}),
    ("/api/face-groups/samples/bulk-delete", {"ids": [2**64]}),
])
def test_body_ids_out_of_range_are_422(client: TestClient, url: str, body: dict) -> None:
    assert client.post(url, json=body).status_code == 422


def test_ids_in_range_still_reach_the_route(client: TestClient) -> None:
    """The bound is the column's, not lower: the largest id is a plain 404."""
    assert client.get(f"/api/events/{DB_ID_MAX}").status_code == 404
    assert client.get("/api/events", params={"camera_id": DB_ID_MAX}).json()["total"] == 0
    deleted = client.post("/api/events/bulk-delete", json={"ids": [DB_ID_MAX]})
    assert deleted.json() == {"deleted": 0, "kept": 0}
