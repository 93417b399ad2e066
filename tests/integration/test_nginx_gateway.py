"""The shipped nginx vhost under a real nginx: SSO identity injected, client headers overridden."""

from __future__ import annotations

import contextlib
import http.server
import shutil
import subprocess
import threading
import time
from pathlib import Path

import httpx
import psutil
import pytest

from tests.integration.conftest import GATEWAY_SECRET, free_port

VHOST = Path(__file__).resolve().parents[2] / "configs" / "nginx" / "iris.conf"
pytestmark = pytest.mark.skipif(shutil.which("nginx") is None, reason="nginx not installed")


class SsoStub(http.server.BaseHTTPRequestHandler):
    """A stand-in for the external SSO service: cookie `_sso=<user>` means logged in."""

    def do_GET(self) -> None:  # noqa: N802 - http.server API
        cookie = self.headers.get("Cookie", "")
        if self.path.startswith("/oauth2/auth") and "_sso=alice" in cookie:
            self.send_response(202)
            self.send_header("X-Auth-Request-Email", "alice@example.com")
            self.send_header("X-Auth-Request-User", "alice")
        elif self.path.startswith("/oauth2/sign_in"):
            self.send_response(403)
        else:
            self.send_response(401)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *_args: object) -> None:
        return


@pytest.fixture
def gateway(iris, tmp_path: Path):
    sso = http.server.ThreadingHTTPServer(("127.0.0.1", 0), SsoStub)
    threading.Thread(target=sso.serve_forever, daemon=True).start()
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
                    "-subj", "/CN=localhost", "-keyout", str(key), "-out", str(cert)],
                   check=True, capture_output=True)
    https_port, http_port = free_port(), free_port()
    include = tmp_path / "nginx-gateway.conf"  # what `iris up` writes into the data root
    include.write_text(f'proxy_set_header X-Iris-Gateway "{GATEWAY_SECRET}";\n')
    vhost = (VHOST.read_text()
             .replace("/srv/iris/data/nginx-gateway.conf", str(include))
             .replace("127.0.0.1:8000", f"127.0.0.1:{iris.settings.port}")
             .replace("127.0.0.1:4180", f"127.0.0.1:{sso.server_address[1]}")
             .replace("listen 443 ssl;", f"listen 127.0.0.1:{https_port} ssl;")
             .replace("listen 80;", f"listen 127.0.0.1:{http_port};")
             .replace("/etc/ssl/iris/fullchain.pem", str(cert))
             .replace("/etc/ssl/iris/privkey.pem", str(key))
             .replace("alias /srv/iris/data/;", f"alias {iris.settings.root}/;"))
    (tmp_path / "iris.conf").write_text(vhost)
    (tmp_path / "nginx.conf").write_text(f"""
user root;
daemon off;
worker_processes 1;
pid {tmp_path}/nginx.pid;
error_log {tmp_path}/error.log;
events {{ worker_connections 256; }}
http {{
    access_log {tmp_path}/access.log;
    client_body_temp_path {tmp_path}/body;
    proxy_temp_path {tmp_path}/proxy;
    fastcgi_temp_path {tmp_path}/fastcgi;
    uwsgi_temp_path {tmp_path}/uwsgi;
    scgi_temp_path {tmp_path}/scgi;
    include {tmp_path}/iris.conf;
}}
""")
    check = subprocess.run(["nginx", "-t", "-c", str(tmp_path / "nginx.conf")],
                           capture_output=True, text=True)
    assert check.returncode == 0, check.stderr
    proc = subprocess.Popen(["nginx", "-c", str(tmp_path / "nginx.conf")])
    base = f"https://127.0.0.1:{https_port}"
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        try:
            httpx.get(f"{base}/health", verify=False, timeout=2)
            break
        except httpx.TransportError:
            time.sleep(0.1)
    try:
        yield base
    finally:
        proc.terminate()
        proc.wait(timeout=10)
        sso.shutdown()


def test_gateway_injects_sso_identity_and_overrides_client_headers(gateway) -> None:
    response = httpx.get(f"{gateway}/api/system", verify=False, timeout=30,
                         headers={"X-Email": "mallory@evil.example", "X-User": "mallory",
                                  "Cookie": "_sso=alice"})
    assert response.status_code == 200, response.text
    user = response.json()["user"]
    assert user == {"email": "alice@example.com", "name": "alice", "via": "sso",
                    "role": "viewer", "cameras": None}  # sso_default_role: no role_map here


def test_gateway_replaces_a_client_sent_gateway_proof(gateway) -> None:
    """A client's own X-Iris-Gateway never reaches the app beside (or instead of) nginx's."""
    response = httpx.get(f"{gateway}/api/system", verify=False, timeout=30,
                         headers={"X-Iris-Gateway": "forged", "Cookie": "_sso=alice"})
    assert response.status_code == 200, response.text
    assert response.json()["user"]["via"] == "sso"


def test_gateway_sends_security_headers(gateway) -> None:
    response = httpx.get(f"{gateway}/", verify=False, timeout=30,
                         headers={"Cookie": "_sso=alice"})
    assert response.status_code == 200
    assert "max-age=" in response.headers["strict-transport-security"]
    assert "frame-ancestors 'none'" in response.headers["content-security-policy"]
    assert response.headers["x-content-type-options"] == "nosniff"


def test_gateway_refuses_spoofed_header_without_session(gateway) -> None:
    response = httpx.get(f"{gateway}/api/cameras", verify=False, timeout=30,
                         headers={"X-Email": "mallory@evil.example"})
    assert response.status_code in {401, 403}
    assert "mallory" not in response.text


def test_health_stays_open_through_gateway(gateway) -> None:
    response = httpx.get(f"{gateway}/health", verify=False, timeout=30)
    assert response.status_code == 200
    assert response.json()["status"] == "ok"


def _rss(processes: list[psutil.Process]) -> int:
    total = 0
    for process in processes:
        with contextlib.suppress(psutil.NoSuchProcess):
            total += process.memory_info().rss
    return total


def _serving_processes() -> list[psutil.Process]:
    """The nginx processes and the Serve replica of the Ingress (who touch the bytes)."""
    found = []
    for process in psutil.process_iter(["cmdline", "name"]):
        cmdline = " ".join(process.info["cmdline"] or [])
        if process.info["name"] == "nginx" or "ServeReplica:iris:Ingress" in cmdline:
            found.append(process)
    return found


def test_gigabyte_clip_through_gateway_keeps_memory_flat(iris, gateway) -> None:
    from datetime import UTC, datetime

    from sqlmodel import Session

    from iris.db.engine import make_engine
    from iris.db.tables import Camera, Event

    engine = make_engine(iris.settings.resolved_database_url)
    with Session(engine) as session:
        camera = Camera.model_validate({"name": "Big", "rtsp_url": "rtsp://127.0.0.1:9/x",
                                        "enabled": False})
        session.add(camera)
        session.flush()
        relative = f"clips/{camera.id}/huge.mp4"
        clip = iris.settings.root / relative
        clip.parent.mkdir(parents=True, exist_ok=True)
        with clip.open("wb") as handle:
            handle.truncate(1 << 30)  # sparse: 1 GiB without using the disk
        event = Event(camera_id=camera.id, ts=datetime.now(UTC), clip_path=relative)
        session.add(event)
        session.commit()
        event_id = event.id
    headers = {"Cookie": "_sso=alice"}
    url = f"{gateway}/api/events/{event_id}/clip"
    processes = _serving_processes()
    before, peak, received = _rss(processes), 0, 0
    with httpx.stream("GET", url, headers=headers, verify=False, timeout=120) as response:
        assert response.status_code == 200
        assert response.headers["content-length"] == str(1 << 30)
        for chunk in response.iter_bytes(1 << 20):
            received += len(chunk)
            if received % (64 << 20) < (1 << 20):
                peak = max(peak, _rss(processes))
    assert received == 1 << 30
    assert peak - before < 50 << 20, f"serving processes grew {(peak - before) >> 20} MiB"

    ranged = httpx.get(url, headers={**headers, "Range": "bytes=-100"}, verify=False, timeout=30)
    assert ranged.status_code == 206 and len(ranged.content) == 100
    assert ranged.headers["content-range"] == f"bytes {(1 << 30) - 100}-{(1 << 30) - 1}/{1 << 30}"
    direct = httpx.get(f"{iris.base_url}/api/events/{event_id}/clip", timeout=30,
                       headers={**iris.headers, "Range": "bytes=0-99"})
    assert direct.status_code == 206 and len(direct.content) == 100  # no gateway: app serves
    clip.unlink()
