"""Review over the API: events carry zones, severity and reviewed; filters combine; marks and
unreviewed counts respect the camera scope (no Ray)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session

from iris.db.events import zones_text
from iris.db.keys import create_key
from tests.support.factories import NOW, camera_row, event_row
from tests.unit.serve.conftest import engine_of


@pytest.fixture
def seeded(client: TestClient) -> dict[str, int]:
    """Two cameras; events of each kind of review state (ids by name)."""
    with Session(engine_of(client)) as session:
        porch, garage = camera_row(session, name="Porch").id, camera_row(session, name="Garage").id
        assert porch is not None and garage is not None
        rows = {
            "drive_alert": event_row(session, camera_id=porch, zones=zones_text(["drive"]),
                                     severity="alert", ts=NOW),
            "both_zones": event_row(session, camera_id=porch, severity="alert",
                                    zones=zones_text(["drive", "front_porch"]),
                                    ts=NOW + timedelta(seconds=1)),
            "detection": event_row(session, camera_id=porch, kind="motion", label="motion",
                                   severity="detection", ts=NOW + timedelta(seconds=2)),
            "old_row": event_row(session, camera_id=garage, ts=NOW + timedelta(seconds=3)),
            "reviewed": event_row(session, camera_id=garage, severity="alert", reviewed=True,
                                  ts=NOW + timedelta(seconds=4)),
        }
        session.commit()
        return {"porch": porch, "garage": garage,
                **{name: int(row.id) for name, row in rows.items()}}  # type: ignore[arg-type]


def listed(client: TestClient, query: str) -> list[int]:
    response = client.get(f"/api/events?{query}")
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["total"] == len(body["items"])
    return sorted(item["id"] for item in body["items"])


def test_events_carry_zones_severity_and_reviewed(client: TestClient, seeded) -> None:
    got = client.get(f"/api/events/{seeded['both_zones']}").json()
    assert got["zones"] == ["drive", "front_porch"]
    assert got["severity"] == "alert" and got["reviewed"] is False
    old = client.get(f"/api/events/{seeded['old_row']}").json()
    assert old["zones"] == [] and old["severity"] == "alert"  # a row from before zones


def test_filters_combine(client: TestClient, seeded) -> None:
    s = seeded
    assert listed(client, "zone=drive") == sorted([s["drive_alert"], s["both_zones"]])
    assert listed(client, "zone=front_porch") == [s["both_zones"]]
    assert listed(client, "zone=front") == []  # a whole name, not a prefix
    assert listed(client, "zone=front%25") == []  # LIKE wildcards are literal
    assert listed(client, "severity=detection") == [s["detection"]]
    assert listed(client, "severity=alert&reviewed=false") == sorted(
        [s["drive_alert"], s["both_zones"], s["old_row"]])
    assert listed(client, "reviewed=true") == [s["reviewed"]]
    assert listed(client, f"camera_id={s['porch']}&zone=drive&severity=alert") == sorted(
        [s["drive_alert"], s["both_zones"]])
    bad = client.get("/api/events?severity=urgent")
    assert bad.status_code == 422 and bad.json()["detail"][0]["loc"] == ["query", "severity"]


def test_review_marks_and_unmarks(client: TestClient, seeded) -> None:
    s = seeded
    counts = client.get("/api/events/unreviewed").json()
    assert counts == {"total": 4, "by_camera": {str(s["porch"]): 3, str(s["garage"]): 1}}
    done = client.post("/api/events/review",
                       json={"ids": [s["drive_alert"], s["old_row"], 99999], "reviewed": True})
    assert done.status_code == 200 and done.json() == {"updated": 2}
    assert client.get(f"/api/events/{s['drive_alert']}").json()["reviewed"] is True
    assert client.get("/api/events/unreviewed").json() == {
        "total": 2, "by_camera": {str(s["porch"]): 2}}
    assert client.get("/api/events/unreviewed?severity=detection").json()["total"] == 1
    undo = client.post("/api/events/review", json={"ids": [s["drive_alert"]], "reviewed": False})
    assert undo.json() == {"updated": 1}
    assert s["drive_alert"] in listed(client, "reviewed=false")


@pytest.mark.parametrize(("body", "loc"), [
    ({"ids": [], "reviewed": True}, ["body", "ids"]),
    ({"ids": list(range(1, 1002)), "reviewed": True}, ["body", "ids"]),
    ({"ids": [0], "reviewed": True}, ["body", "ids", 0]),
    ({"ids": [1], "reviewed": "maybe"}, ["body", "reviewed"]),
    ({"ids": [1], "seen": True}, ["body", "seen"]),
])
def test_bad_review_bodies_are_422(client: TestClient, body: object, loc: list[object]) -> None:
    response = client.post("/api/events/review", json=body)
    assert response.status_code == 422
    assert loc in [error["loc"] for error in response.json()["detail"]]


def test_a_viewer_cannot_review_and_counts_follow_the_scope(client: TestClient,
                                                           seeded) -> None:
    with Session(engine_of(client)) as session:
        token = create_key(session, name="porch", role="viewer", cameras=[seeded["porch"]]).token
    viewer = {"Authorization": f"Bearer {token}"}
    refused = client.post("/api/events/review", headers=viewer,
                          json={"ids": [seeded["detection"]], "reviewed": True})
    assert refused.status_code == 403 and "review events" in refused.text
    assert client.get("/api/events/unreviewed", headers=viewer).json() == {
        "total": 3, "by_camera": {str(seeded["porch"]): 3}}
