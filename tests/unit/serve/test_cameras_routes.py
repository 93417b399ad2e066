"""/api/cameras without Ray: each change of a row and what the worker and HLS session are told."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session

from iris.db.tables import Camera, Event
from iris.messages import CameraState
from iris.serve.errors import ServiceUnavailable
from iris.settings import load_settings
from tests.support.factories import event_row
from tests.support.runtime import FakeRuntime
from tests.unit.serve.conftest import engine_of, make_client

URL = "rtsp://u:p@192.0.2.10:554/s"


def add_camera(client: TestClient, **fields: object) -> int:
    created = client.post("/api/cameras", json={"name": "Door", "rtsp_url": URL, **fields})
    assert created.status_code == 201, created.text
    return int(created.json()["id"])


def test_an_enabled_camera_is_started_and_a_disabled_one_is_not(
    client: TestClient, runtime: FakeRuntime
) -> None:
    on = add_camera(client)
    off = add_camera(client, enabled=False)
    assert runtime.called("sync_camera") == [(on,)]
    assert off != on


@pytest.mark.parametrize(("change", "syncs", "closes_hls"), [
    ({"detect_conf": 0.7}, True, False),           # tuning: restart
    ({"enabled": False}, True, True),              # disable: stop, and end live-with-sound
    ({"retention_days": 7}, False, False),         # retention: the manager applies it
    ({"name": "Gate"}, False, False),
    ({"rtsp_url": "rtsp://x:y@192.0.2.10:554/s"}, True, True),  # new credentials: restart
    ({"rtsp_url": "rtsp://***@192.0.2.10:554/s"}, False, False),  # the masked echo: nothing
    ({"detect_conf": 0.5}, False, False),          # the value it has: nothing changes
])
def test_an_update_tells_the_worker_only_what_it_needs(
    client: TestClient, runtime: FakeRuntime, change: dict[str, object], syncs: bool,
    closes_hls: bool
) -> None:
    camera_id = add_camera(client)
    runtime.calls.clear()
    response = client.put(f"/api/cameras/{camera_id}", json=change)
    assert response.status_code == 200, response.text
    assert runtime.called("sync_camera") == ([(camera_id,)] if syncs else [])
    assert runtime.called("hls_close") == ([(camera_id,)] if closes_hls else [])


def test_a_repoint_purges_history_and_a_credentials_change_keeps_it(
    client: TestClient
) -> None:
    camera_id = add_camera(client)
    with Session(engine_of(client)) as session:
        event_row(session, camera_id=camera_id)
        session.commit()

    def events() -> int:
        with Session(engine_of(client)) as session:
            return len(session.query(Event).filter_by(camera_id=camera_id).all())

    client.put(f"/api/cameras/{camera_id}", json={"rtsp_url": "rtsp://a:b@192.0.2.10:554/s"})
    assert events() == 1
    client.put(f"/api/cameras/{camera_id}", json={"rtsp_url": "rtsp://a:b@192.0.2.99:554/s"})
    assert events() == 0


def test_delete_stops_the_worker_before_the_row_goes_and_forgets_it_after(
    client: TestClient, runtime: FakeRuntime
) -> None:
    camera_id = add_camera(client)
    runtime.calls.clear()
    assert client.delete(f"/api/cameras/{camera_id}").status_code == 204
    assert [c[0] for c in runtime.calls] == ["sync_camera", "hls_close", "sync_camera"]
    with Session(engine_of(client)) as session:
        assert session.get(Camera, camera_id) is None
    assert client.get(f"/api/cameras/{camera_id}").status_code == 404


def test_a_worker_that_does_not_answer_never_undoes_a_saved_change(tmp_path: Path) -> None:
    runtime = FakeRuntime(sync_error=ServiceUnavailable("workers away"),
                          hls_closes=ServiceUnavailable("hls away"))
    with make_client(tmp_path, runtime) as client:
        camera_id = add_camera(client)
        assert client.put(f"/api/cameras/{camera_id}",
                          json={"enabled": False}).json()["enabled"] is False
        assert client.delete(f"/api/cameras/{camera_id}").status_code == 204


def test_status_comes_from_the_worker_state(client: TestClient, runtime: FakeRuntime) -> None:
    camera_id = add_camera(client)
    runtime.states[camera_id] = CameraState(status="online", last_seen=time.time(), fps=24.5,
                                            detector="ok", name="Door")
    status = client.get(f"/api/cameras/{camera_id}/status").json()
    assert (status["status"], status["fps"], status["detector"]) == ("online", 24.5, "ok")
    listed = client.get("/api/cameras").json()
    assert [(c["id"], c["status"], c["rtsp_url"]) for c in listed] == [
        (camera_id, "online", "rtsp://***@192.0.2.10:554/s")]


def test_unknown_camera_is_404(client: TestClient) -> None:
    for method, path in (("GET", "/api/cameras/9"), ("PUT", "/api/cameras/9"),
                         ("DELETE", "/api/cameras/9"), ("GET", "/api/cameras/9/status")):
        response = client.request(method, path, json={} if method == "PUT" else None)
        assert response.status_code == 404, (method, path)
        assert response.json()["detail"] == "Camera not found."


def test_a_rename_republishes_discovery_without_restarting_the_worker(
    client: TestClient, runtime: FakeRuntime
) -> None:
    camera_id = add_camera(client)
    runtime.calls.clear()
    assert client.put(f"/api/cameras/{camera_id}", json={"name": "Gate"}).status_code == 200
    assert runtime.called("notify_cameras_changed") == [()]
    assert runtime.called("sync_camera") == []


@pytest.mark.parametrize("weights", [True, False])
def test_the_camera_form_hears_of_a_detector_on_standby_by_its_weights(
        tmp_path: Path, weights: bool) -> None:
    """No camera yet, no detector loaded: the first camera will detect if its weights are there."""
    from iris.serve.model_handles import STANDBY_REASON, undeployed_detector_info

    model = tmp_path / "yolo11n.onnx"
    if weights:
        model.write_bytes(b"onnx")
    settings = load_settings(data_dir=tmp_path, detector_model=model)
    info = undeployed_detector_info(settings)
    with make_client(tmp_path, FakeRuntime(detector=info), detector_model=model) as client:
        body = client.get("/api/cameras/detect/classes").json()
    assert body["available"] is weights
    assert body["reason"] == (STANDBY_REASON if weights else f"no detector weights at {model}; "
                              "run `iris models pull`")
