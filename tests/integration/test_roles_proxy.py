"""Roles and camera scope through the Serve proxy (the in-process table is
tests/unit/serve/test_access_matrix.py): a viewer key watches but cannot delete, a key
limited to one camera never learns of another, a revoked key stops at once."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

URL = "rtsp://192.0.2.20/stream"


@pytest.fixture
def two_cameras(client: httpx.Client) -> Iterator[tuple[int, int]]:
    ids = []
    for name in ("roles-porch", "roles-garage"):
        made = client.post("/api/cameras", json={"name": name, "rtsp_url": URL, "enabled": False})
        assert made.status_code == 201, made.text
        ids.append(made.json()["id"])
    try:
        yield ids[0], ids[1]
    finally:
        for camera_id in ids:
            client.delete(f"/api/cameras/{camera_id}")


def key(client: httpx.Client, **body: object) -> dict[str, str]:
    made = client.post("/api/system/keys", json=body)
    assert made.status_code == 201, made.text
    return {"Authorization": f"Bearer {made.json()['token']}"}


def test_a_viewer_key_watches_but_cannot_delete(iris, client, two_cameras) -> None:
    porch, _ = two_cameras
    viewer = key(client, name="roles-viewer")
    try:
        with httpx.Client(base_url=iris.base_url, headers=viewer, timeout=30) as watcher:
            assert watcher.get("/api/cameras").status_code == 200
            assert watcher.get("/api/system").json()["user"]["role"] == "viewer"
            with watcher.stream("GET", f"/api/live/{porch}/stream", params={"fps": 1}) as live:
                assert live.status_code == 200
                assert live.headers["content-type"].startswith("multipart/x-mixed-replace")
                assert next(live.iter_bytes())  # the first part ("no signal" while disabled)
            refused = watcher.delete(f"/api/cameras/{porch}")
            assert refused.status_code == 403
            assert refused.json()["detail"] == ("Viewers cannot change cameras: this needs the "
                                                "admin role.")
            assert watcher.post(f"/api/live/{porch}/record/start").status_code == 403
            assert watcher.post("/api/events/clear-all", json={"confirm": True}).status_code == 403
        assert client.get(f"/api/cameras/{porch}").status_code == 200  # still there
    finally:
        assert client.delete("/api/system/keys/roles-viewer").status_code == 204
    gone = httpx.get(f"{iris.base_url}/api/cameras", headers=viewer, timeout=30)
    assert gone.status_code == 401 and gone.json()["detail"] == "Invalid API key."


def test_a_key_limited_to_one_camera_never_learns_of_another(iris, client, two_cameras) -> None:
    porch, garage = two_cameras
    limited = key(client, name="roles-porch-only", cameras=[porch])
    try:
        with httpx.Client(base_url=iris.base_url, headers=limited, timeout=30) as watcher:
            assert [c["id"] for c in watcher.get("/api/cameras").json()] == [porch]
            missing = 2**62
            for path in ("/api/cameras/{}", "/api/cameras/{}/status", "/api/live/{}/snapshot",
                         "/api/live/{}/stream", "/api/live/{}/hls/index.m3u8"):
                other = watcher.get(path.format(garage))
                absent = watcher.get(path.format(missing))
                assert other.status_code == absent.status_code == 404, path
                assert other.json() == absent.json() == {"detail": "Camera not found."}, path
            workers = watcher.get("/api/system").json()["workers"]
            assert all(w["camera_id"] == porch for w in workers)
    finally:
        client.delete("/api/system/keys/roles-porch-only")
