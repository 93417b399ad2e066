"""The /api/live/{id}/hls routes without Ray: a stand-in session manager behind the Runtime."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient

from iris.actors.hls import EnsureResult
from iris.serve.api import create_api
from iris.serve.runtime import OfflineRuntime
from iris.settings import load_settings
from tests.support.api import api_client

KEY = "unit-key"
PLAYLIST = "#EXTM3U\n#EXT-X-TARGETDURATION:1\n#EXTINF:1.0,\nseg00000.ts\n"


class FakeHlsActor:
    """Answers `ensure.remote(...)` like the HlsManager actor handle does (awaitable)."""

    def __init__(self, result: EnsureResult | Exception) -> None:
        self.result = result
        self.calls: list[tuple[int, float]] = []
        self.ensure = SimpleNamespace(remote=self._ensure)

    async def _ensure(self, camera_id: int, wait_s: float) -> EnsureResult:
        self.calls.append((camera_id, wait_s))
        if isinstance(self.result, Exception):
            raise self.result
        return self.result


class FakeRuntime(OfflineRuntime):
    def __init__(self, actor: FakeHlsActor | None, closes: bool = True) -> None:
        self.actor = actor
        self.closes = closes
        self.stopped: list[int] = []

    def hls(self) -> Any | None:
        return self.actor

    def stop_hls(self, camera_id: int) -> bool:
        self.stopped.append(camera_id)
        return self.closes


def make_client(tmp_path: Path, runtime: Any, **settings: Any) -> TestClient:
    app = create_api(load_settings(data_dir=tmp_path, api_key=KEY, **settings), runtime)
    return api_client(app, headers={"Authorization": f"Bearer {KEY}"})


def add_camera(client: TestClient, enabled: bool = True) -> int:
    body = {"name": "Door", "rtsp_url": "rtsp://u:p@127.0.0.1:9/s", "enabled": enabled}
    created = client.post("/api/cameras", json=body)
    assert created.status_code == 201, created.text
    return int(created.json()["id"])


@pytest.fixture
def actor() -> FakeHlsActor:
    return FakeHlsActor(EnsureResult("ready", playlist=PLAYLIST))


@pytest.fixture
def client(tmp_path: Path, actor: FakeHlsActor) -> Iterator[TestClient]:
    with make_client(tmp_path, FakeRuntime(actor)) as test_client:
        yield test_client


def test_playlist_is_served_from_the_session_manager(
    client: TestClient, actor: FakeHlsActor
) -> None:
    camera_id = add_camera(client)
    response = client.get(f"/api/live/{camera_id}/hls/index.m3u8")
    assert response.status_code == 200
    assert response.text == PLAYLIST
    assert response.headers["content-type"] == "application/vnd.apple.mpegurl"
    assert response.headers["cache-control"] == "no-store"
    assert response.headers["x-accel-buffering"] == "no"
    assert actor.calls == [(camera_id, 10.0)]


@pytest.mark.parametrize(
    ("result", "status", "detail"),
    [
        (EnsureResult("capacity", "All 4 HLS live sessions are in use"), 503, "All 4 HLS"),
        (EnsureResult("disabled", "HLS live streaming is disabled"), 503, "disabled"),
        (EnsureResult("starting", "rtsp://***@cam/s: Connection refused"), 503, "not ready yet"),
        (EnsureResult("not_found", "Camera not found."), 404, "Camera not found."),
        (EnsureResult("camera_disabled", "Camera is disabled."), 409, "Camera is disabled."),
        (RuntimeError("actor died"), 503, "not responding"),
    ],
)
def test_session_manager_answers_map_to_statuses(
    tmp_path: Path, result: EnsureResult | Exception, status: int, detail: str
) -> None:
    with make_client(tmp_path, FakeRuntime(FakeHlsActor(result))) as client:
        response = client.get(f"/api/live/{add_camera(client)}/hls/index.m3u8")
    assert response.status_code == status
    assert detail in response.json()["detail"]
    if isinstance(result, EnsureResult) and result.state == "starting":
        assert "Connection refused" in response.json()["detail"]
        assert response.headers["retry-after"] == "2"


def test_hls_disabled_in_settings_answers_503_without_a_session(
    tmp_path: Path, actor: FakeHlsActor
) -> None:
    with make_client(tmp_path, FakeRuntime(actor), hls_enabled=False) as client:
        response = client.get(f"/api/live/{add_camera(client)}/hls/index.m3u8")
    assert response.status_code == 503
    assert "disabled" in response.json()["detail"]
    assert actor.calls == []


def test_without_ray_hls_is_unavailable(tmp_path: Path) -> None:
    with make_client(tmp_path, OfflineRuntime()) as client:
        camera_id = add_camera(client)
        response = client.get(f"/api/live/{camera_id}/hls/index.m3u8")
        assert response.status_code == 503
        assert response.json()["detail"] == "HLS unavailable: the Ray runtime is not running."
        assert client.post(f"/api/live/{camera_id}/hls/close").json() == {"closed": False}


def test_unknown_or_disabled_camera(client: TestClient, actor: FakeHlsActor) -> None:
    assert client.get("/api/live/999/hls/index.m3u8").status_code == 404
    assert client.get("/api/live/abc/hls/index.m3u8").status_code == 422
    response = client.get(f"/api/live/{add_camera(client, enabled=False)}/hls/index.m3u8")
    assert response.status_code == 409
    assert response.json()["detail"] == "Camera is disabled."
    assert actor.calls == []


@pytest.mark.parametrize("method", ["GET", "POST"])
@pytest.mark.parametrize("closes", [True, False])
def test_close_reports_whether_a_session_stopped(
    tmp_path: Path, actor: FakeHlsActor, method: str, closes: bool
) -> None:
    runtime = FakeRuntime(actor, closes=closes)
    with make_client(tmp_path, runtime) as client:
        camera_id = add_camera(client)
        response = client.request(method, f"/api/live/{camera_id}/hls/close")
        assert response.status_code == 200
        assert response.json() == {"closed": closes}
        assert runtime.stopped == [camera_id]
        assert client.post("/api/live/999/hls/close").status_code == 404


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
    tmp_path: Path, actor: FakeHlsActor
) -> None:
    with make_client(tmp_path, FakeRuntime(actor), hls_max_sessions_per_principal=2,
                     sso_gateway_secret=GATEWAY) as client:
        cameras = [add_camera(client) for _ in range(3)]
        ada = sso("ada@example.com")
        for camera_id in cameras[:2]:
            assert client.get(f"/api/live/{camera_id}/hls/index.m3u8", headers=ada).status_code \
                == 200
        # The players keep polling their playlists: still two sessions, still fine.
        assert client.get(f"/api/live/{cameras[0]}/hls/index.m3u8", headers=ada).status_code \
            == 200
        started = len(actor.calls)
        refused = client.get(f"/api/live/{cameras[2]}/hls/index.m3u8", headers=ada)
        assert refused.status_code == 429
        assert "hls_max_sessions_per_principal" in refused.json()["detail"]
        assert int(refused.headers["retry-after"]) >= 1
        assert len(actor.calls) == started  # refused before any session was started for it
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
    actor = FakeHlsActor(EnsureResult("capacity", "All 4 HLS live sessions are in use"))
    with make_client(tmp_path, FakeRuntime(actor), hls_max_sessions_per_principal=1) as client:
        first, second = add_camera(client), add_camera(client)
        assert client.get(f"/api/live/{first}/hls/index.m3u8").status_code == 503
        actor.result = EnsureResult("ready", playlist=PLAYLIST)
        assert client.get(f"/api/live/{second}/hls/index.m3u8").status_code == 200
