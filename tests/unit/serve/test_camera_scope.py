"""A viewer limited to some cameras: every list, count and report shows only their cameras.

(Direct requests for another camera's rows are in test_access_matrix.py: they read as missing.)
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session

from iris.db.keys import create_key
from iris.messages import CameraState
from iris.serve.api import create_api
from iris.settings import load_settings
from tests.support.api import api_client
from tests.support.factories import event_row, sighting_row
from tests.support.runtime import FakeRuntime
from tests.unit.serve.test_access_matrix import KEY, A, B, _seed

ADMIN = {"Authorization": f"Bearer {KEY}"}


@pytest.fixture
def clients(tmp_path: Path) -> Iterator[tuple[TestClient, dict[str, str], int]]:
    """A client, the limited viewer's headers, and an identity seen on both cameras."""
    runtime = FakeRuntime(states={A: CameraState("online", 0.0, name="Porch"),
                                  B: CameraState("online", 0.0, name="Garage")})
    app = create_api(load_settings(data_dir=tmp_path, api_key=KEY), runtime)
    with Session(app.state.engine) as session:
        _seed(session)
        # Identity 1 (first seen on A) is seen on B too, in an event there.
        event = event_row(session, camera_id=B, identity_id=1)
        sighting_row(session, identity_id=1, camera_id=B, event_id=event.id)
        session.commit()
        token = create_key(session, name="porch", role="viewer", cameras=[A]).token
    with api_client(app) as client:
        yield client, {"Authorization": f"Bearer {token}"}, 1


def ids(items: list[dict[str, object]], key: str = "camera_id") -> set[object]:
    return {item[key] for item in items}


def test_lists_show_only_the_cameras_in_scope(clients) -> None:
    client, porch, _ = clients
    assert ids(client.get("/api/cameras", headers=porch).json(), "id") == {A}
    assert ids(client.get("/api/cameras", headers=ADMIN).json(), "id") == {A, B}

    events = client.get("/api/events", headers=porch).json()
    assert events["total"] == 1 and ids(events["items"]) == {A}
    assert client.get("/api/events", headers=ADMIN).json()["total"] == 3

    identities = client.get("/api/identities", headers=porch).json()
    assert ids(identities["items"], "id") == {1}  # identity 2 is seen on B only
    assert [c["id"] for c in identities["items"][0]["cameras"]] == [A]

    groups = client.get("/api/face-groups", headers=porch).json()
    assert groups["total_samples"] == 1

    by_camera = client.get("/api/identities/analytics", headers=porch).json()["by_camera"]
    assert ids(by_camera) == {A}


def test_a_shared_identity_shows_only_its_sightings_on_the_cameras_in_scope(clients) -> None:
    client, porch, identity = clients
    sightings = client.get(f"/api/identities/{identity}/sightings", headers=porch).json()
    assert sightings["total"] == 1 and ids(sightings["items"]) == {A}
    assert client.get(f"/api/identities/{identity}/sightings",
                      headers=ADMIN).json()["total"] == 2
    detail = client.get(f"/api/identities/{identity}", headers=porch).json()
    assert ids(detail["recent"]) == {A}
    events = client.get(f"/api/identities/{identity}/events", headers=porch).json()
    assert events["total"] == 0  # its only event is on B
    assert client.get(f"/api/identities/{identity}/events", headers=ADMIN).json()["total"] == 1


def test_system_and_metrics_report_only_the_cameras_in_scope(clients) -> None:
    client, porch, _ = clients
    system = client.get("/api/system", headers=porch).json()
    assert system["user"] == {"email": None, "name": "porch", "via": "api_key",
                              "role": "viewer", "cameras": [A]}
    assert ids(system["workers"]) == {A}
    assert ids(system["recording"]["cameras"]) == {A}
    metrics = client.get("/api/system/metrics", headers=porch).text
    assert 'camera_id="1"' in metrics and 'camera_id="2"' not in metrics

    # The per-camera storage sums are cached per scope: the admin, asking next, sees both.
    admin = client.get("/api/system", headers=ADMIN).json()
    assert ids(admin["recording"]["cameras"]) == {A, B}
    assert ids(admin["workers"]) == {A, B}
    assert admin["user"]["role"] == "admin" and admin["user"]["cameras"] is None
