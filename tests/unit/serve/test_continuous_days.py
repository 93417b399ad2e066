"""`continuous_days` on the camera API: accepted on create and update, in every answer, and
applied by retention without restarting the camera (no Ray)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from iris.db.tables import DEFAULT_CONTINUOUS_DAYS
from iris.serve.api import create_api
from iris.serve.schemas.cameras import TUNING_FIELDS
from iris.settings import load_settings
from tests.support.api import api_client

AUTH = {"Authorization": "Bearer unit-key"}


@pytest.fixture
def api(tmp_path: Path) -> Iterator[TestClient]:
    settings = load_settings(data_dir=tmp_path, api_key="unit-key")
    with api_client(create_api(settings), headers=AUTH) as client:
        yield client


def test_continuous_days_round_trips_and_defaults(api: TestClient) -> None:
    made = api.post("/api/cameras", json={"name": "a", "rtsp_url": "rtsp://cam/s",
                                          "enabled": False})
    assert made.status_code == 201, made.text
    assert made.json()["continuous_days"] == DEFAULT_CONTINUOUS_DAYS
    camera = made.json()["id"]
    events_only = api.put(f"/api/cameras/{camera}", json={"continuous_days": 0})
    assert events_only.status_code == 200 and events_only.json()["continuous_days"] == 0
    assert api.get(f"/api/cameras/{camera}").json()["continuous_days"] == 0
    other = api.post("/api/cameras", json={"name": "b", "rtsp_url": "rtsp://cam/t",
                                           "enabled": False, "continuous_days": 90})
    assert other.json()["continuous_days"] == 90


@pytest.mark.parametrize("days", [-1, 3651, "week"])
def test_continuous_days_out_of_range_is_422(api: TestClient, days: object) -> None:
    answer = api.post("/api/cameras", json={"name": "a", "rtsp_url": "rtsp://cam/s",
                                            "continuous_days": days})
    assert answer.status_code == 422
    assert any(e["loc"][-1] == "continuous_days" for e in answer.json()["detail"])


def test_continuous_days_is_retention_not_tuning() -> None:
    assert "continuous_days" not in TUNING_FIELDS  # a change does not restart the worker
