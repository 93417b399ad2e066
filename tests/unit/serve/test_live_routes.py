"""/api/live snapshot and manual recording without Ray: the runtime's answers as HTTP."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session

from iris.messages import RecordResult
from iris.serve.errors import RECORD_FAILED, ServiceUnavailable
from iris.serve.placeholder import no_signal_jpeg
from iris.serve.routes.live import SNAPSHOT_WAIT_S
from tests.support.factories import camera_row
from tests.support.runtime import FakeRuntime
from tests.unit.serve.conftest import engine_of

JPEG = b"\xff\xd8 a frame \xff\xd9"


@pytest.fixture
def camera_id(client: TestClient, runtime: FakeRuntime) -> int:
    with Session(engine_of(client)) as session:
        camera_id = camera_row(session).id
        session.commit()
    assert camera_id is not None
    runtime.running.add(camera_id)
    return camera_id


def started(client: TestClient, camera_id: int) -> str:
    response = client.post(f"/api/live/{camera_id}/record/start")
    assert response.status_code == 200, response.text
    return str(response.json()["started_at"])


@pytest.mark.parametrize(("frame", "body"), [
    ((7, JPEG), JPEG),
    (None, no_signal_jpeg()),                          # no frame yet
    (ServiceUnavailable("camera restarting"), no_signal_jpeg()),
])
def test_snapshot_is_the_latest_frame_or_no_signal(
    client: TestClient, runtime: FakeRuntime, camera_id: int,
    frame: tuple[int, bytes] | BaseException | None, body: bytes
) -> None:
    if frame is not None:
        runtime.frames[camera_id] = frame
    response = client.get(f"/api/live/{camera_id}/snapshot")
    assert response.status_code == 200
    assert response.content == body
    assert response.headers["content-type"] == "image/jpeg"
    # A camera's first frame is waited for (a stopped one answers "no signal" at once).
    assert runtime.called("snapshot_jpeg") == [(camera_id, SNAPSHOT_WAIT_S)]
    runtime.running.discard(camera_id)
    stopped = client.get(f"/api/live/{camera_id}/snapshot")
    assert stopped.status_code == 200 and stopped.content == no_signal_jpeg()
    assert client.get("/api/live/999/snapshot").status_code == 404


def test_a_saved_recording_answers_its_event(
    client: TestClient, runtime: FakeRuntime, camera_id: int
) -> None:
    runtime.recorded = RecordResult(event_id=5, clip="/api/events/5/clip", duration=3.25)
    when = started(client, camera_id)
    response = client.post(f"/api/live/{camera_id}/record/stop", json={"started_at": when})
    assert response.status_code == 200, response.text
    assert response.json() == {"event_id": 5, "clip": "/api/events/5/clip", "duration": 3.25}
    [(called_camera, started_at)] = runtime.called("record_stop")
    assert called_camera == camera_id
    assert started_at == datetime.fromisoformat(when.replace("Z", "+00:00")).timestamp()


def test_a_recording_with_nothing_saved_is_409_saying_why(
    client: TestClient, runtime: FakeRuntime, camera_id: int
) -> None:
    runtime.recorded = RecordResult(error="Nothing recorded in that window.")
    when = started(client, camera_id)
    response = client.post(f"/api/live/{camera_id}/record/stop", json={"started_at": when})
    assert response.status_code == 409
    assert response.json()["detail"] == "Nothing recorded in that window."


def test_a_camera_that_fails_the_stop_is_a_503_to_retry(
    client: TestClient, runtime: FakeRuntime, camera_id: int
) -> None:
    runtime.recorded = ServiceUnavailable(RECORD_FAILED)
    when = started(client, camera_id)
    response = client.post(f"/api/live/{camera_id}/record/stop", json={"started_at": when})
    assert response.status_code == 503
    assert response.json()["detail"] == RECORD_FAILED


def test_a_camera_without_a_worker_cannot_record(
    client: TestClient, runtime: FakeRuntime, camera_id: int
) -> None:
    runtime.running.clear()
    start = client.post(f"/api/live/{camera_id}/record/start")
    assert start.status_code == 409
    assert start.json()["detail"] == "Camera is not running (disabled?)."
    now = datetime.now(UTC).isoformat()
    stop = client.post(f"/api/live/{camera_id}/record/stop", json={"started_at": now})
    assert stop.status_code == 409
    assert stop.json()["detail"] == "Camera is not running (disabled?)."


@pytest.mark.parametrize(("started_at", "detail"), [
    ("yesterday", "Invalid started_at: expected an ISO 8601 timestamp."),
    ((datetime.now(UTC) + timedelta(hours=1)).isoformat(), "started_at is in the future."),
])
def test_a_bad_started_at_is_400_before_the_camera_is_asked(
    client: TestClient, runtime: FakeRuntime, camera_id: int, started_at: str, detail: str
) -> None:
    response = client.post(f"/api/live/{camera_id}/record/stop",
                           json={"started_at": started_at})
    assert response.status_code == 400
    assert response.json()["detail"] == detail
    assert runtime.called("record_stop") == []
