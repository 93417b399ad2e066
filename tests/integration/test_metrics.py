"""The metrics endpoint, scraped as Prometheus would: per-camera series from live workers."""

from __future__ import annotations

import time

import httpx


def scrape(iris) -> dict[str, float]:
    response = httpx.get(f"{iris.base_url}/api/system/metrics", headers=iris.headers, timeout=30)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain; version=0.0.4")
    samples = {}
    for line in response.text.splitlines():
        if line and not line.startswith("#"):
            name, value = line.rsplit(" ", 1)
            samples[name] = float(value)
    return samples


def test_metrics_need_credentials(iris) -> None:
    assert httpx.get(f"{iris.base_url}/api/system/metrics", timeout=30).status_code == 401


def test_per_camera_series(iris) -> None:
    with iris.client() as client:
        camera = client.post("/api/cameras", json={
            "name": "Metered", "rtsp_url": "rtsp://127.0.0.1:9/none"}).json()["id"]
    try:
        labels = f'{{camera_id="{camera}",camera="Metered"}}'
        key = f"iris_camera_frames_decoded_total{labels}"  # present once the worker beats
        deadline = time.monotonic() + 30
        samples = scrape(iris)
        while key not in samples and time.monotonic() < deadline:
            time.sleep(0.5)
            samples = scrape(iris)
        assert samples[f"iris_camera_up{labels}"] == 0.0  # nothing answers on port 9
        for series in ("iris_camera_decode_fps", "iris_camera_frames_dropped_total",
                       "iris_camera_events_total", "iris_camera_detections_total"):
            assert f"{series}{labels}" in samples, series
        assert "iris_detector_available" in samples
        assert 'iris_identity_gallery_size{gallery="identity_faces"}' in samples
    finally:
        with iris.client() as client:
            client.delete(f"/api/cameras/{camera}")
