"""The shipped nginx vhost under a real nginx: SSO identity injected, client headers overridden."""

from __future__ import annotations

import http.server
import shutil
import subprocess
import threading
import time
from pathlib import Path

import httpx
import pytest

from tests.integration.conftest import free_port

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
    vhost = (VHOST.read_text()
             .replace("127.0.0.1:8000", f"127.0.0.1:{iris.settings.port}")
             .replace("127.0.0.1:4180", f"127.0.0.1:{sso.server_address[1]}")
             .replace("listen 443 ssl;", f"listen 127.0.0.1:{https_port} ssl;")
             .replace("listen 80;", f"listen 127.0.0.1:{http_port};")
             .replace("/etc/ssl/iris/fullchain.pem", str(cert))
             .replace("/etc/ssl/iris/privkey.pem", str(key)))
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
    assert user == {"email": "alice@example.com", "name": "alice", "via": "sso"}


def test_gateway_refuses_spoofed_header_without_session(gateway) -> None:
    response = httpx.get(f"{gateway}/api/cameras", verify=False, timeout=30,
                         headers={"X-Email": "mallory@evil.example"})
    assert response.status_code in {401, 403}
    assert "mallory" not in response.text


def test_health_stays_open_through_gateway(gateway) -> None:
    response = httpx.get(f"{gateway}/health", verify=False, timeout=30)
    assert response.status_code == 200
    assert response.json()["status"] == "ok"
