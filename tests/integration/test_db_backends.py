"""The API's queries on both databases: SQLite (embedded) and PostgreSQL (multi-node).

Runs the FastAPI app in-process (no Ray: the worker runtime is offline) against each backend;
PostgreSQL comes from IRIS_TEST_DATABASE_URL (`make test` starts Debian's server on loopback).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session, SQLModel, select

from iris.db.engine import make_engine
from iris.db.tables import Event, FaceSample, Identity, PresenceSegment, Sighting
from iris.db.types import vector_to_blob
from iris.serve.api import create_api
from iris.settings import load_settings
from tests.support.api import api_client

PG_URL = os.environ.get("IRIS_TEST_DATABASE_URL")
BACKENDS = ["sqlite", pytest.param("postgresql", marks=pytest.mark.skipif(
    not PG_URL, reason="IRIS_TEST_DATABASE_URL not set (make test starts PostgreSQL)"))]
KEY = {"Authorization": "Bearer k"}


@pytest.fixture(params=BACKENDS)
def api(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[TestClient, object]]:
    url = f"sqlite:///{tmp_path / 'iris.db'}" if request.param == "sqlite" else PG_URL
    assert url is not None
    engine = make_engine(url)
    SQLModel.metadata.drop_all(engine)
    SQLModel.metadata.create_all(engine)
    settings = load_settings(data_dir=tmp_path / "data", database_url=url, api_key="k")
    with api_client(create_api(settings)) as client:
        yield client, engine
    engine.dispose()


def test_camera_crud_and_recursive_delete(api) -> None:
    client, engine = api
    cam = client.post("/api/cameras", headers=KEY,
                      json={"name": "A", "rtsp_url": "rtsp://u:p@h/s"}).json()
    other = client.post("/api/cameras", headers=KEY,
                        json={"name": "B", "rtsp_url": "rtsp://h/t", "enabled": False}).json()
    assert cam["rtsp_url"] == "rtsp://***@h/s"
    updated = client.put(f"/api/cameras/{cam['id']}", headers=KEY,
                         json={"rtsp_url": cam["rtsp_url"], "detect_conf": 0.7}).json()
    assert updated["detect_conf"] == 0.7 and updated["rtsp_url"] == "rtsp://***@h/s"
    now = datetime.now(UTC)
    with Session(engine) as session:
        solo, shared = Identity(), Identity()
        session.add_all([solo, shared])
        session.flush()
        session.add_all([
            Event(camera_id=cam["id"], ts=now, identity_id=solo.id),
            Sighting(identity_id=solo.id, camera_id=cam["id"], ts=now),
            Sighting(identity_id=shared.id, camera_id=cam["id"], ts=now),
            Sighting(identity_id=shared.id, camera_id=other["id"], ts=now),
            FaceSample(camera_id=cam["id"], ts=now, embedding=vector_to_blob([1.0] * 4)),
            PresenceSegment(identity_id=shared.id, camera_id=cam["id"], start=now, end=now),
        ])
        session.commit()
        solo_id, shared_id = solo.id, shared.id
    assert client.delete(f"/api/cameras/{cam['id']}", headers=KEY).status_code == 204
    with Session(engine) as session:
        assert session.get(Identity, solo_id) is None
        assert session.get(Identity, shared_id) is not None
        assert session.execute(select(Event)).first() is None
        assert session.execute(select(FaceSample)).first() is None
        assert len(session.execute(select(Sighting)).all()) == 1


def test_event_filters_and_deletes(api) -> None:
    client, engine = api
    cam = client.post("/api/cameras", headers=KEY, json={
        "name": "A", "rtsp_url": "rtsp://h/s", "enabled": False}).json()["id"]
    base = datetime(2026, 1, 1, tzinfo=UTC)
    with Session(engine) as session:
        for index in range(30):
            session.add(Event(camera_id=cam, ts=base + timedelta(minutes=index),
                              label="person" if index % 2 else "car"))
        session.commit()
        ident = Identity()
        session.add(ident)
        session.flush()
        first = session.execute(select(Event.id).order_by(Event.id)).scalars().first()
        session.add(Sighting(identity_id=ident.id, camera_id=cam, ts=base, event_id=first))
        session.commit()
    listed = client.get("/api/events", headers=KEY, params={
        "camera_id": cam, "label": "person", "from": "2026-01-01T00:05:00Z",
        "to": "2026-01-01T00:15:00Z", "limit": 3}).json()
    assert listed["total"] == 5  # odd minutes 5..13
    assert [e["ts"][:16] for e in listed["items"]] == [
        "2026-01-01T00:13", "2026-01-01T00:11", "2026-01-01T00:09"]
    ids = [e["id"] for e in client.get("/api/events", headers=KEY,
                                       params={"limit": 5}).json()["items"]]
    assert client.post("/api/events/bulk-delete", headers=KEY,
                       json={"ids": ids}).status_code == 200
    assert client.get("/api/events", headers=KEY).json()["total"] == 25
    assert client.post("/api/events/clear-all", headers=KEY, json={}).status_code in {400, 422}
    cleared = client.post("/api/events/clear-all", headers=KEY, json={"confirm": True})
    assert cleared.status_code == 200
    assert client.get("/api/events", headers=KEY).json()["total"] == 0
    with Session(engine) as session:
        sighting = session.execute(select(Sighting)).scalars().one()
        assert sighting.event_id is None  # SET NULL: the sighting survives
