"""A real Iris for the benchmarks: `iris up` as a subprocess, as an operator runs it.

Wraps the integration tests' `IrisProcess` (fresh data dir, own port, killable as a whole) with
the calls benchmarks make: add cameras, read worker heartbeats from `/health`, and meter the CPU
of the whole `iris up` process tree (driver, GCS, raylet, every Ray worker) or parts of it.
"""

from __future__ import annotations

import signal
import subprocess
import time
from pathlib import Path
from typing import Any

import httpx

from bench.common import CpuMeter, matching, process_tree
from tests.integration.iris_process import IrisProcess
from tests.support.wait import wait_for

STOP_TIMEOUT_S = 60.0


class BenchIris:
    """`python -m iris.cli up` on a fresh data dir, with a benchmark-sized Ray."""

    def __init__(self, folder: Path, *, detector_model: Path | None = None,
                 num_cpus: int = 6, **env: str) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        extra = {"IRIS_RAY_NUM_CPUS": str(num_cpus), **env}
        if detector_model is not None:
            extra["IRIS_DETECTOR_MODEL"] = str(detector_model)
        self.process = IrisProcess(folder / "data", folder / "iris.log", **extra)
        self.client: httpx.Client | None = None

    @property
    def pid(self) -> int:
        assert self.process.proc is not None, "not started"
        return self.process.proc.pid

    @property
    def base_url(self) -> str:
        return self.process.base_url

    def start(self, timeout: float = 240) -> float:
        """Start and wait for `/health` 200; returns the seconds that took."""
        started = time.monotonic()
        self.process.start(timeout=timeout)
        elapsed = time.monotonic() - started
        self.client = self.process.client()
        return elapsed

    def start_retrying(self, attempts: int = 3, timeout: float = 240) -> float:
        """`start`, again when `iris up` exits while starting: on a loaded box Ray's node may
        not register within its fixed 30 s, or Serve's controller not start in time."""
        for attempt in range(1, attempts + 1):
            try:
                return self.start(timeout)
            except AssertionError as exc:
                if attempt == attempts:
                    raise
                print(f"iris up failed to start (attempt {attempt}): {str(exc)[-200:]}; "
                      "again", flush=True)
                self.stop()
        raise AssertionError("unreachable")

    def stop(self) -> float:
        """SIGTERM (clean stop of cameras, Serve, Ray); kill the tree if it hangs. Seconds."""
        started = time.monotonic()
        if self.client is not None:
            self.client.close()
            self.client = None
        proc = self.process.proc
        if proc is not None and proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(timeout=STOP_TIMEOUT_S)
            except subprocess.TimeoutExpired:
                self.process.kill_all()
        return time.monotonic() - started

    def __enter__(self) -> BenchIris:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def log_tail(self, chars: int = 3000) -> str:
        log = self.process.log
        return log.read_text(errors="replace")[-chars:] if log.is_file() else ""

    # ------------------------------------------------------------------ API
    def api(self) -> httpx.Client:
        assert self.client is not None, "not started"
        return self.client

    def add_camera(self, name: str, url: str, **fields: Any) -> int:
        response = self.api().post("/api/cameras", json={"name": name, "rtsp_url": url, **fields})
        if response.status_code != 201:
            raise RuntimeError(f"creating camera {name}: {response.status_code} {response.text}")
        return int(response.json()["id"])

    def set_enabled(self, camera_id: int, enabled: bool) -> None:
        response = self.api().put(f"/api/cameras/{camera_id}", json={"enabled": enabled},
                                  timeout=120)
        response.raise_for_status()

    def workers(self) -> dict[int, dict[str, Any]]:
        """Latest heartbeat of each running camera worker (`/api/system`: `/health` says only
        up or down)."""
        response = self.api().get("/api/system", timeout=30)
        response.raise_for_status()
        return {int(w["camera_id"]): w for w in response.json()["workers"]}

    def wait_streaming(self, camera_ids: list[int], min_fps: float, timeout: float = 90) -> None:
        """Until every camera heartbeats `online` at ``min_fps`` or more, and no others run."""
        def ready() -> bool:
            workers = self.workers()
            return set(workers) == set(camera_ids) and all(
                workers[c].get("status") == "online" and workers[c].get("fps", 0) >= min_fps
                for c in camera_ids)

        try:
            wait_for(ready, timeout, 0.5, f"cameras {camera_ids} streaming")
        except AssertionError as exc:  # wait_for's timeout
            raise TimeoutError(f"{exc}; heartbeats: {self.workers()}") from None

    # ------------------------------------------------------------------ CPU
    def cpu_meter(self, *needles: str) -> CpuMeter:
        """CPU of the `iris up` tree, or of its processes whose command line has a needle."""
        pid = self.pid
        if not needles:
            return CpuMeter(lambda: process_tree(pid))
        return CpuMeter(lambda: matching(process_tree(pid), *needles))
