"""The /api/live/{id}/hls routes without Ray: a fake runtime stands in for the session manager."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient

from iris.actors.hls import EnsureResult
from iris.serve.errors import HLS_NOT_RESPONDING, RETRY_AFTER_S, ServiceUnavailable
from tests.support.runtime import FakeRuntime
from tests.unit.serve.conftest import make_client

PLAYLIST = "#EXTM3U\n#EXT-X-TARGETDURATION:1\n#EXTINF:1.0,\nseg00000.ts\n"


def ensures(runtime: FakeRuntime) -> list[tuple[int, float]]:
    return [(camera_id, wait_s) for camera_id, wait_s in runtime.called("hls_ensure")]


def add_camera(client: TestClient, enabled: bool = True) -> int:
    body = {"name": "Door", "rtsp_url": "rtsp://u:p@127.0.0.1:9/s", "enabled": enabled}
    created = client.post("/api/cameras", json=body)
    assert created.status_code == 201, created.text
    return int(created.json()["id"])


@pytest.fixture
def runtime() -> FakeRuntime:
    return FakeRuntime(hls=EnsureResult("ready", playlist=PLAYLIST))


def test_playlist_is_served_from_the_session_manager(
    client: TestClient, runtime: FakeRuntime
) -> None:
    camera_id = add_camera(client)
    response = client.get(f"/api/live/{camera_id}/hls/index.m3u8")
    assert response.status_code == 200
    assert response.text == PLAYLIST
    assert response.headers["content-type"] == "application/vnd.apple.mpegurl"
    assert response.headers["cache-control"] == "no-store"
    assert response.headers["x-accel-buffering"] == "no"
    assert ensures(runtime) == [(camera_id, 10.0)]


@pytest.mark.parametrize(
    ("result", "status", "detail"),
    [
        (EnsureResult("capacity", "All 4 HLS live sessions are in use"), 503, "All 4 HLS"),
        (EnsureResult("disabled", "HLS live streaming is disabled"), 503, "disabled"),
        (EnsureResult("starting", "rtsp://***@cam/s: Connection refused"), 503, "not ready yet"),
        (EnsureResult("not_found", "Camera not found."), 404, "Camera not found."),
        (EnsureResult("camera_disabled", "Camera is disabled."), 409, "Camera is disabled."),
        (ServiceUnavailable(HLS_NOT_RESPONDING, RETRY_AFTER_S), 503, "not responding"),
    ],
)
def test_session_manager_answers_map_to_statuses(
    tmp_path: Path, result: EnsureResult | Exception, status: int, detail: str
) -> None:
    with make_client(tmp_path, FakeRuntime(hls=result)) as client:
        response = client.get(f"/api/live/{add_camera(client)}/hls/index.m3u8")
    assert response.status_code == status
    assert detail in response.json()["detail"]
    if isinstance(result, EnsureResult) and result.state == "starting":
        assert "Connection refused" in response.json()["detail"]
        assert response.headers["retry-after"] == "2"
    if isinstance(result, ServiceUnavailable):
        assert response.headers["retry-after"] == "5"


def test_hls_disabled_in_settings_answers_503_without_a_session(tmp_path: Path) -> None:
    runtime = FakeRuntime()
    with make_client(tmp_path, runtime, hls_enabled=False) as client:
        response = client.get(f"/api/live/{add_camera(client)}/hls/index.m3u8")
    assert response.status_code == 503
    assert "disabled" in response.json()["detail"]
    assert ensures(runtime) == []


def test_without_ray_hls_is_unavailable(tmp_path: Path) -> None:
    with make_client(tmp_path, None) as client:  # the app's own OfflineRuntime
        camera_id = add_camera(client)
        response = client.get(f"/api/live/{camera_id}/hls/index.m3u8")
        assert response.status_code == 503
        assert response.json()["detail"] == "HLS unavailable: the Ray runtime is not running."
        assert client.post(f"/api/live/{camera_id}/hls/close").json() == {"closed": False}


def test_unknown_or_disabled_camera(client: TestClient, runtime: FakeRuntime) -> None:
    assert client.get("/api/live/999/hls/index.m3u8").status_code == 404
    assert client.get("/api/live/abc/hls/index.m3u8").status_code == 422
    response = client.get(f"/api/live/{add_camera(client, enabled=False)}/hls/index.m3u8")
    assert response.status_code == 409
    assert response.json()["detail"] == "Camera is disabled."
    assert ensures(runtime) == []


@pytest.mark.parametrize("method", ["GET", "POST"])
@pytest.mark.parametrize("closes", [True, False])
def test_close_reports_whether_a_session_stopped(
    tmp_path: Path, method: str, closes: bool
) -> None:
    runtime = FakeRuntime(hls_closes=closes)
    with make_client(tmp_path, runtime) as client:
        camera_id = add_camera(client)
        response = client.request(method, f"/api/live/{camera_id}/hls/close")
        assert response.status_code == 200
        assert response.json() == {"closed": closes}
        assert runtime.called("hls_close") == [(camera_id,)]
        assert client.post("/api/live/999/hls/close").status_code == 404


def test_close_while_the_session_manager_is_away_is_a_503_to_retry(tmp_path: Path) -> None:
    runtime = FakeRuntime(hls_closes=ServiceUnavailable(HLS_NOT_RESPONDING, RETRY_AFTER_S))
    with make_client(tmp_path, runtime) as client:
        response = client.post(f"/api/live/{add_camera(client)}/hls/close")
    assert response.status_code == 503
    assert response.json()["detail"] == HLS_NOT_RESPONDING
    assert response.headers["retry-after"] == "5"


def test_segment_is_served_from_the_data_root(client: TestClient, tmp_path: Path) -> None:
    camera_id = add_camera(client)
    folder = tmp_path / "hls" / str(camera_id)
    folder.mkdir(parents=True)
    (folder / "seg00042.ts").write_bytes(b"\x47" * 188)
    response = client.get(f"/api/live/{camera_id}/hls/seg00042.ts")
    assert response.status_code == 200
    assert response.content == b"\x47" * 188
    assert response.headers["content-type"] == "video/mp2t"
    assert response.headers["x-accel-buffering"] == "no"


@pytest.mark.parametrize(
    ("name", "status"),
    [
        ("seg1.ts", 400),
        ("index.m3u8x", 400),
        ("ffmpeg.log", 400),  # ffmpeg's log lives in the session folder: never served
        ("seg00000.ts.tmp", 400),
        ("seg００００１.ts", 400),  # fullwidth digits: \d would accept them, [0-9] does not
        ("seg00001.ts%0A", 400),
        ("%2E%2E", 400),
        ("..%2F..%2Firis.db", 404),  # a slash never reaches the route
        ("seg00001.ts", 404),  # well-formed but absent
    ],
)
def test_segment_names_are_validated(
    client: TestClient, tmp_path: Path, name: str, status: int
) -> None:
    camera_id = add_camera(client)
    (tmp_path / "hls" / str(camera_id)).mkdir(parents=True)
    (tmp_path / "hls" / str(camera_id) / "ffmpeg.log").write_text("rtsp://u:p@cam: refused")
    response = client.get(httpx.URL(f"http://127.0.0.1/api/live/{camera_id}/hls/{name}"))
    assert response.status_code == status, response.text


# ----------------------------------------------------------------------------- per principal
GATEWAY = "unit-gateway-secret"


def sso(email: str) -> dict[str, str]:
    """Headers of a user signed in through the gateway (nginx adds the proof)."""
    return {"X-Email": email, "X-Iris-Gateway": GATEWAY}


def test_each_principal_holds_at_most_its_share_of_hls_sessions(
    tmp_path: Path, runtime: FakeRuntime
) -> None:
    with make_client(tmp_path, runtime, hls_max_sessions_per_principal=2,
                     sso_gateway_secret=GATEWAY) as client:
        cameras = [add_camera(client) for _ in range(3)]
        ada = sso("ada@example.com")
        for camera_id in cameras[:2]:
            assert client.get(f"/api/live/{camera_id}/hls/index.m3u8", headers=ada).status_code \
                == 200
        # The players keep polling their playlists: still two sessions, still fine.
        assert client.get(f"/api/live/{cameras[0]}/hls/index.m3u8", headers=ada).status_code \
            == 200
        started = len(ensures(runtime))
        refused = client.get(f"/api/live/{cameras[2]}/hls/index.m3u8", headers=ada)
        assert refused.status_code == 429
        assert "hls_max_sessions_per_principal" in refused.json()["detail"]
        assert int(refused.headers["retry-after"]) >= 1
        assert len(ensures(runtime)) == started  # refused before any session was started for it
        # Another user (and the API key) have shares of their own.
        bob = client.get(f"/api/live/{cameras[2]}/hls/index.m3u8",
                         headers=sso("bob@example.com"))
        assert bob.status_code == 200
        assert client.get(f"/api/live/{cameras[2]}/hls/index.m3u8").status_code == 200
        # Closing one of hers frees her share.
        assert client.post(f"/api/live/{cameras[0]}/hls/close", headers=ada).status_code == 200
        assert client.get(f"/api/live/{cameras[2]}/hls/index.m3u8", headers=ada).status_code \
            == 200


def test_a_session_that_failed_to_start_does_not_count(tmp_path: Path) -> None:
    runtime = FakeRuntime(hls=EnsureResult("capacity", "All 4 HLS live sessions are in use"))
    with make_client(tmp_path, runtime, hls_max_sessions_per_principal=1) as client:
        first, second = add_camera(client), add_camera(client)
        assert client.get(f"/api/live/{first}/hls/index.m3u8").status_code == 503
        runtime.hls = EnsureResult("ready", playlist=PLAYLIST)
        assert client.get(f"/api/live/{second}/hls/index.m3u8").status_code == 200


@pytest.mark.parametrize(("running", "status"), [(set(), 200), (None, 429)])
def test_a_claim_on_a_session_gone_elsewhere_is_forgotten_before_a_429(
    tmp_path: Path, running: set[int] | None, status: int
) -> None:
    runtime = FakeRuntime(hls=EnsureResult("ready", playlist=PLAYLIST))
    with make_client(tmp_path, runtime, hls_max_sessions_per_principal=1) as client:
        first, second = add_camera(client), add_camera(client)
        assert client.get(f"/api/live/{first}/hls/index.m3u8").status_code == 200
        # The first session was reaped (or its camera deleted): the manager lists none, or
        # cannot say (then the claim stands: refusing is the safe side).
        runtime.hls_sessions = running
        assert client.get(f"/api/live/{second}/hls/index.m3u8").status_code == status
