"""The systemd unit example: valid for systemd, and its stop budget fits Iris's own."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from iris.settings import Settings

UNIT = Path(__file__).resolve().parents[2] / "configs" / "systemd" / "iris.service"
SHUTDOWN_AFTER_CAMERAS_S = 30  # Serve and Ray stop after the cameras (field notes: ~5-15 s)


def directives() -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for line in UNIT.read_text().splitlines():
        if "=" in line and not line.lstrip().startswith(("#", "[")):
            key, _, value = line.partition("=")
            found.setdefault(key.strip(), []).append(value.strip())
    return found


def test_unit_restarts_on_failure_and_stops_iris_first() -> None:
    unit = directives()
    assert unit["Restart"] == ["on-failure"]
    assert unit["KillMode"] == ["mixed"]  # SIGTERM to `iris up` only; it stops Ray itself
    budget = Settings.model_fields["stop_timeout_seconds"].default
    assert int(unit["TimeoutStopSec"][0]) >= budget + SHUTDOWN_AFTER_CAMERAS_S
    assert unit["ExecStart"][0].endswith("/iris up")
    assert unit["User"] != ["root"]


def test_unit_data_dir_is_the_one_writable_path() -> None:
    unit = directives()
    env = dict(v.split("=", 1) for v in unit["Environment"])
    data_dir = env["IRIS_DATA_DIR"]
    assert data_dir == f"/var/lib/{unit['StateDirectory'][0]}"
    assert unit["ReadWritePaths"] == [data_dir] and unit["ProtectSystem"] == ["strict"]
    assert env["HOME"] == data_dir  # Ray writes ~/.ray/auth_token
    assert "MemoryDenyWriteExecute" not in unit  # onnxruntime/torch map executable memory


@pytest.mark.skipif(shutil.which("systemd-analyze") is None, reason="no systemd-analyze")
def test_systemd_accepts_the_unit(tmp_path: Path) -> None:
    # The example lives at /opt/iris; point it at this checkout so ExecStart exists.
    checkout = UNIT.parents[2]
    unit = tmp_path / "iris.service"
    unit.write_text(UNIT.read_text().replace("/opt/iris", str(checkout)))
    result = subprocess.run(["systemd-analyze", "verify", str(unit)], capture_output=True,
                            text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert "iris.service" not in result.stderr, result.stderr
