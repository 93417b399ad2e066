"""Run `iris up` as a separate process, as an operator would (fault-tolerance tests)."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import psutil

from tests.integration.conftest import free_port

KEY = "process-key-0123456789"


class IrisProcess:
    """`python -m iris.cli up` with its own data dir and port; killable as a whole."""

    def __init__(self, data_dir: Path, log: Path, **env: str) -> None:
        self.port = free_port()
        self.data_dir = data_dir
        self.log = log
        self.env = {**os.environ, "IRIS_DATA_DIR": str(data_dir), "IRIS_PORT": str(self.port),
                    "IRIS_DASHBOARD": "false", "IRIS_API_KEY": KEY,
                    "IRIS_MODELS_AUTO_FETCH": "false",  # no network here: skip the probe
                    **env}
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def client(self) -> httpx.Client:
        return httpx.Client(base_url=self.base_url, timeout=30,
                            headers={"Authorization": f"Bearer {KEY}"})

    def start(self, *args: str, timeout: float = 180) -> IrisProcess:
        handle = self.log.open("a")
        self.proc = subprocess.Popen([sys.executable, "-m", "iris.cli", "up", *args],
                                     env=self.env,
                                     stdout=handle, stderr=subprocess.STDOUT,
                                     start_new_session=True)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            assert self.proc.poll() is None, f"iris up exited: {self.log.read_text()[-3000:]}"
            try:
                if httpx.get(f"{self.base_url}/health", timeout=2).status_code == 200:
                    return self
            except httpx.TransportError:
                pass
            time.sleep(0.25)
        raise AssertionError("iris up did not become healthy")

    def kill_all(self) -> None:
        """kill -9 of iris up and every process it started (an unclean stop).

        Ray's own processes run in sessions of their own, so the process group is not enough:
        the whole tree is collected first, then killed at once.
        """
        assert self.proc is not None
        tree = psutil.Process(self.proc.pid).children(recursive=True)
        os.killpg(self.proc.pid, signal.SIGKILL)
        for process in tree:
            with contextlib.suppress(psutil.NoSuchProcess):
                process.kill()
        psutil.wait_procs(tree, timeout=30)
        self.proc.wait(timeout=30)

    def stop(self) -> None:
        if self.proc is None or self.proc.poll() is not None:
            return
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(timeout=90)
        except subprocess.TimeoutExpired:
            os.killpg(self.proc.pid, signal.SIGKILL)
