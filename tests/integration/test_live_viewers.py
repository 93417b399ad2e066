"""Many MJPEG viewers at once: open streams never starve the API of DB connections."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import httpx

VIEWERS = 50  # far more than the DB pool (5 + 10 overflow)


def test_fifty_concurrent_viewers_and_the_api_still_answers(iris) -> None:
    with iris.client() as client:
        camera = client.post("/api/cameras", json={
            "name": "Wall", "rtsp_url": "rtsp://127.0.0.1:9/x", "enabled": False}).json()["id"]
    opened = threading.Barrier(VIEWERS + 1, timeout=60)
    done = threading.Event()

    def view() -> int:
        with httpx.Client(base_url=iris.base_url, headers=iris.headers, timeout=60) as viewer, \
                viewer.stream("GET", f"/api/live/{camera}/stream") as response:
            status = response.status_code
            if status == 200:
                next(response.iter_bytes())  # the "no signal" prime frame
            opened.wait()
            done.wait(60)
            return status

    try:
        with ThreadPoolExecutor(VIEWERS) as pool:
            results = [pool.submit(view) for _ in range(VIEWERS)]
            opened.wait()  # every viewer holds an open stream now
            with iris.client() as client:
                assert client.get("/api/cameras").status_code == 200
                assert client.get(f"/api/live/{camera}/snapshot").status_code == 200
            done.set()
            assert [r.result() for r in results] == [200] * VIEWERS
    finally:
        done.set()
        with iris.client() as client:
            client.delete(f"/api/cameras/{camera}")
