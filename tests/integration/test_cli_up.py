"""`iris up` as a new user runs it: serves, authenticates, reports status, stops cleanly."""

from __future__ import annotations

import os
import signal
import stat
import subprocess
import sys
import time
from pathlib import Path

import httpx
import psutil

from tests.integration.conftest import free_port


def wait_for_health(base: str, proc: subprocess.Popen, timeout: float = 180.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        assert proc.poll() is None, "iris up exited early"
        try:
            if httpx.get(f"{base}/health", timeout=2).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.25)
    raise AssertionError("iris up did not become healthy")


def ray_token() -> str:
    return (Path.home() / ".ray" / "auth_token").read_text().strip()


def test_iris_up_serves_and_stops_cleanly(tmp_path: Path) -> None:
    port, dashboard_port = free_port(), free_port()
    env = {**os.environ, "IRIS_DATA_DIR": str(tmp_path / "data"), "IRIS_PORT": str(port),
           "IRIS_DASHBOARD": "true", "IRIS_DASHBOARD_PORT": str(dashboard_port)}
    env.pop("RAY_AUTH_MODE", None)
    log = (tmp_path / "up.log").open("w")
    proc = subprocess.Popen([sys.executable, "-m", "iris.cli", "up"], env=env,
                            stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    base = f"http://127.0.0.1:{port}"
    try:
        wait_for_health(base, proc)
        key = (tmp_path / "data" / "api_key").read_text().strip()
        assert httpx.get(f"{base}/api/cameras", timeout=10).status_code == 401
        ok = httpx.get(f"{base}/api/cameras", timeout=10,
                       headers={"Authorization": f"Bearer {key}"})
        assert ok.status_code == 200 and ok.json() == []

        # The dashboard is reported where it runs, and Ray refuses requests without its token.
        system = httpx.get(f"{base}/api/system", timeout=10,
                           headers={"Authorization": f"Bearer {key}"}).json()
        dashboard = f"http://127.0.0.1:{dashboard_port}"
        assert system["ray_dashboard"] == dashboard
        assert httpx.get(f"{dashboard}/api/version", timeout=10).status_code in {401, 403}
        with_token = httpx.get(f"{dashboard}/api/version", timeout=10,
                               headers={"Authorization": f"Bearer {ray_token()}"})
        assert with_token.status_code == 200, with_token.text

        status = subprocess.run([sys.executable, "-m", "iris.cli", "status"], env=env,
                                capture_output=True, text=True, timeout=60)
        assert status.returncode == 0, status.stderr
        assert "cameras: 0" in status.stdout

        family = psutil.Process(proc.pid).children(recursive=True)
        assert family, "Ray processes should run under iris up"
        os.kill(proc.pid, signal.SIGTERM)
        assert proc.wait(timeout=90) == 0
        _, alive = psutil.wait_procs(family, timeout=30)
        assert not alive, f"left behind: {[p.name() for p in alive]}"
        output = (tmp_path / "up.log").read_text()
        assert "Web app:" in output and "Iris stopped." in output
        assert f"Ray dashboard:  {dashboard}" in output
        assert key not in output and ray_token() not in output
        assert str(tmp_path / "data" / "api_key") in output
        assert stat.S_IMODE((tmp_path / "data").stat().st_mode) == 0o700
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
