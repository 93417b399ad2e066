"""Camera zones, masks and filters over the API: stored, validated with the field named, and a
change restarts only that camera's worker (no Ray)."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text

from tests.support.runtime import FakeRuntime
from tests.unit.serve.conftest import engine_of

URL = "rtsp://u:p@192.0.2.10:554/s"
DRIVE = {"name": "drive", "polygon": [[0, 0.5], [0.5, 0.5], [0.5, 1], [0, 1]]}
PORCH = {"name": "Front porch", "polygon": [[0.5, 0.5], [1, 0.5], [1, 1]],
         "labels": ["Person"], "loiter_seconds": 3}
TREES = [[0, 0], [1, 0], [1, 0.3], [0, 0.3]]


def add_camera(client: TestClient, **fields: object) -> dict[str, Any]:
    created = client.post("/api/cameras", json={"name": "Door", "rtsp_url": URL, **fields})
    assert created.status_code == 201, created.text
    return created.json()  # type: ignore[no-any-return]


def test_a_new_camera_has_none_and_a_full_one_reads_back(client: TestClient) -> None:
    bare = add_camera(client)
    assert (bare["motion_masks"], bare["zones"], bare["required_zones"],
            bare["object_filters"]) == ([], [], [], {})
    full = add_camera(client, motion_masks=[TREES], zones=[DRIVE, PORCH],
                      required_zones=["drive"],
                      object_filters={"person": {"min_score": 0.6, "max_area": 0.5}})
    got = client.get(f"/api/cameras/{full['id']}").json()
    assert got["motion_masks"] == [TREES]
    assert [z["name"] for z in got["zones"]] == ["drive", "Front porch"]
    assert got["zones"][1]["labels"] == ["person"] and got["zones"][1]["loiter_seconds"] == 3
    assert got["required_zones"] == ["drive"]
    assert got["object_filters"]["person"]["min_score"] == 0.6


def loc_of(response: Any) -> list[list[object]]:
    assert response.status_code == 422, response.text
    return [error["loc"] for error in response.json()["detail"]]


@pytest.mark.parametrize(("body", "loc"), [
    ({"motion_masks": [[[0, 0], [1, 0]]]}, ["body", "motion_masks", 0]),
    ({"motion_masks": [[[0, 0], [1.5, 0], [1, 1]]]}, ["body", "motion_masks", 0, 1, 0]),
    ({"motion_masks": [[[0, 0], [0.5, 0.5], [1, 1]]]}, ["body", "motion_masks", 0]),
    ({"zones": [DRIVE, {"name": "x", "polygon": [[0, 0], [1, 1]]}]},
     ["body", "zones", 1, "polygon"]),
    ({"zones": [{"name": "bad/name", "polygon": DRIVE["polygon"]}]}, ["body", "zones", 0, "name"]),
    ({"zones": [{"name": "x" * 33, "polygon": DRIVE["polygon"]}]}, ["body", "zones", 0, "name"]),
    ({"zones": [DRIVE, {**DRIVE, "name": "Drive"}]}, ["body", "zones"]),
    ({"zones": [{**DRIVE, "loiter_seconds": -1}]}, ["body", "zones", 0, "loiter_seconds"]),
    ({"zones": [{**DRIVE, "colour": "red"}]}, ["body", "zones", 0, "colour"]),
    ({"object_filters": {"person": {"min_area": 0.5, "max_area": 0.1}}},
     ["body", "object_filters", "person"]),
    ({"object_filters": {"person": {"min_ratio": 0}}},
     ["body", "object_filters", "person", "min_ratio"]),
    ({"object_filters": {"person": {"min_score": 2}}},
     ["body", "object_filters", "person", "min_score"]),
])
def test_bad_values_are_422_naming_the_field(client: TestClient, body: dict[str, Any],
                                             loc: list[object]) -> None:
    camera = add_camera(client)
    assert loc in loc_of(client.put(f"/api/cameras/{camera['id']}", json=body))
    assert loc_of(client.post("/api/cameras", json={"name": "n", "rtsp_url": URL, **body}))


def test_required_zones_must_name_zones(client: TestClient) -> None:
    created = client.post("/api/cameras", json={"name": "n", "rtsp_url": URL,
                                                "zones": [DRIVE], "required_zones": ["gate"]})
    assert created.status_code == 422 and "required_zones[0]" in created.text
    camera = add_camera(client, zones=[DRIVE], required_zones=["drive"])
    put = client.put(f"/api/cameras/{camera['id']}", json={"required_zones": ["drive", "gate"]})
    assert loc_of(put) == [["body", "required_zones", 1]]
    assert "'gate' is not one of this camera's zones" in put.text
    # Dropping a zone that is still required is refused too; dropping both is fine.
    assert loc_of(client.put(f"/api/cameras/{camera['id']}", json={"zones": [PORCH]})) == \
        [["body", "required_zones", 0]]
    both = client.put(f"/api/cameras/{camera['id']}", json={"zones": [], "required_zones": []})
    assert both.status_code == 200 and both.json()["zones"] == []


@pytest.mark.parametrize("change", [
    {"motion_masks": [TREES]},
    {"zones": [DRIVE]},
    {"object_filters": {"car": {"min_area": 0.01}}},
])
def test_a_change_restarts_that_camera_and_an_echo_does_not(
    client: TestClient, runtime: FakeRuntime, change: dict[str, Any]
) -> None:
    camera = add_camera(client)
    other = add_camera(client, name="Gate")
    runtime.calls.clear()
    assert client.put(f"/api/cameras/{camera['id']}", json=change).status_code == 200
    assert runtime.called("sync_camera") == [(camera["id"],)]
    runtime.calls.clear()
    echo = client.get(f"/api/cameras/{camera['id']}").json()
    key = next(iter(change))
    assert client.put(f"/api/cameras/{camera['id']}", json={key: echo[key]}).status_code == 200
    assert runtime.called("sync_camera") == []
    assert other["id"] != camera["id"]


def test_a_row_from_an_older_database_reads_as_none(client: TestClient) -> None:
    camera = add_camera(client)
    with engine_of(client).begin() as connection:
        connection.execute(text("UPDATE cameras SET zones = NULL, motion_masks = NULL, "
                                "required_zones = NULL, object_filters = NULL"))
    got = client.get(f"/api/cameras/{camera['id']}").json()
    assert (got["zones"], got["motion_masks"], got["object_filters"]) == ([], [], {})
