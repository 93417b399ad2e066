"""Live MJPEG viewers through the real Serve proxy: many at once never starve the API, streams
are capped in all and per principal, and a viewer that stops reading is closed.
"""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack
from urllib.parse import urlsplit

import httpx
import pytest

from tests.integration.conftest import IrisInstance, extra_instance
from tests.support.media import make_clip, to_annexb
from tests.support.rtsp import RtspServer, gstreamer_available
from tests.support.wait import wait_for

VIEWERS = 50  # far more than the DB pool (5 + 10 overflow)
WRITE_TIMEOUT_S = 2.0


def sso(instance: IrisInstance, email: str) -> dict[str, str]:
    """Headers of a user signed in through the gateway (what nginx sends for them)."""
    secret = instance.settings.sso_gateway_secret
    return {"X-Email": email, **({"X-Iris-Gateway": secret} if secret else {})}


def add_camera(instance: IrisInstance, url: str, enabled: bool) -> int:
    with instance.client() as client:
        created = client.post("/api/cameras", json={"name": "Wall", "rtsp_url": url,
                                                    "enabled": enabled})
    assert created.status_code == 201, created.text
    return int(created.json()["id"])


def test_fifty_concurrent_viewers_and_the_api_still_answers(iris) -> None:
    camera = add_camera(iris, "rtsp://127.0.0.1:9/x", enabled=False)
    opened = threading.Barrier(VIEWERS + 1, timeout=60)
    done = threading.Event()

    def view(index: int) -> int:
        # Fifty people, one stream each: the per-principal cap is not what this measures.
        headers = sso(iris, f"viewer{index}@example.com")
        with httpx.Client(base_url=iris.base_url, headers=headers, timeout=60) as viewer, \
                viewer.stream("GET", f"/api/live/{camera}/stream") as response:
            status = response.status_code
            if status == 200:
                next(response.iter_bytes())  # the "no signal" prime frame
            opened.wait()
            done.wait(60)
            return status

    try:
        with ThreadPoolExecutor(VIEWERS) as pool:
            results = [pool.submit(view, index) for index in range(VIEWERS)]
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


# ----------------------------------------------------------------------------- caps
@pytest.fixture(scope="module")
def capped(iris, tmp_path_factory: pytest.TempPathFactory) -> Iterator[IrisInstance]:
    """An instance that allows 2 streams in all, 1 per principal, and 2 s of not reading."""
    folder = tmp_path_factory.mktemp("capped")
    with extra_instance(iris, "capped", data_dir=folder / "data", live_max_viewers=2,
                        live_max_viewers_per_principal=1,
                        live_write_timeout_seconds=WRITE_TIMEOUT_S) as instance:
        yield instance


def open_stream(stack: ExitStack, instance: IrisInstance, camera: int,
                headers: dict[str, str] | None = None) -> httpx.Response:
    client = stack.enter_context(instance.client())
    return stack.enter_context(client.stream("GET", f"/api/live/{camera}/stream",
                                             headers=headers))


def admitted(instance: IrisInstance, camera: int, headers: dict[str, str]) -> bool:
    with ExitStack() as stack:
        return open_stream(stack, instance, camera, headers).status_code == 200


def test_streams_are_capped_per_principal_and_in_all(capped: IrisInstance) -> None:
    camera = add_camera(capped, "rtsp://127.0.0.1:9/x", enabled=False)
    ada, bob = sso(capped, "ada@example.com"), sso(capped, "bob@example.com")
    with ExitStack() as stack:
        assert open_stream(stack, capped, camera).status_code == 200  # the API key's one
        second = open_stream(stack, capped, camera)
        assert second.status_code == 429
        assert second.headers["retry-after"] == "5"
        assert "live_max_viewers_per_principal" in second.read().decode()
        assert open_stream(stack, capped, camera, ada).status_code == 200  # 2 of 2 now
        full = open_stream(stack, capped, camera, bob)
        assert full.status_code == 503
        assert full.headers["retry-after"] == "5"
        assert "live_max_viewers" in full.read().decode()
    # Viewers that hung up gave their streams back.
    wait_for(lambda: admitted(capped, camera, bob), 20, what="a stream free again")


@pytest.fixture(scope="module")
def rtsp(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RtspServer]:
    if not gstreamer_available():
        pytest.skip("GStreamer RTSP missing")
    folder = tmp_path_factory.mktemp("rtsp")
    clip = make_clip(folder / "cam.mp4", seconds=8, fps=25, size=(1280, 720))
    server = RtspServer(to_annexb(clip), fps=25, log_path=folder / "server.log")
    server.start()
    yield server
    server.stop()


def stalled_viewer(instance: IrisInstance, camera: int, headers: dict[str, str]) -> socket.socket:
    """A client that asks for the stream, reads the response head, then never reads again."""
    url = urlsplit(f"{instance.base_url}/api/live/{camera}/stream")
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)  # a small window fills fast
    sock.connect((url.hostname, url.port))
    lines = [f"GET {url.path} HTTP/1.1", f"Host: {url.netloc}",
             *(f"{name}: {value}" for name, value in headers.items()), "", ""]
    sock.sendall("\r\n".join(lines).encode())
    head = b""
    while b"\r\n\r\n" not in head:
        chunk = sock.recv(1)
        assert chunk, head
        head += chunk
    assert head.startswith(b"HTTP/1.1 200"), head
    return sock


def test_a_viewer_that_stops_reading_is_closed(capped: IrisInstance, rtsp: RtspServer) -> None:
    camera = add_camera(capped, rtsp.url, enabled=True)
    with capped.client() as client:
        wait_for(lambda: client.get(f"/api/cameras/{camera}/status").json()["status"]
                 == "online", 40, what="camera online")
    carol = sso(capped, "carol@example.com")
    sock = stalled_viewer(capped, camera, carol)
    try:
        # Her one stream is open and counted by the ingress...
        assert not admitted(capped, camera, carol)
        # ...until the proxy gives up on a client that reads nothing: the ingress's stream
        # ends, her slot comes back, and the socket is closed (without it, it stays 429).
        wait_for(lambda: admitted(capped, camera, carol), 60, interval=0.5,
                 what="the stalled stream closed")
        sock.settimeout(30)
        while sock.recv(1 << 16):
            continue  # what was buffered, then EOF: the server hung up
    finally:
        sock.close()
        with capped.client() as client:
            client.delete(f"/api/cameras/{camera}")
