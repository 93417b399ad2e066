"""`iris cameras|events|doctor` against a running `iris up`, as an operator types them."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlmodel import Session

from iris.db.engine import make_engine
from iris.db.tables import Event
from tests.integration.iris_process import IrisProcess

pytestmark = pytest.mark.integration


def iris_cli(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "iris.cli", *args], env=env,
                          capture_output=True, text=True, timeout=120,
                          stdin=subprocess.DEVNULL)


def as_json(result: subprocess.CompletedProcess[str]) -> Any:
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def test_cameras_events_and_doctor_against_a_running_instance(tmp_path: Path) -> None:
    iris = IrisProcess(tmp_path / "data", tmp_path / "iris.log").start()
    env = iris.env
    try:
        added = as_json(iris_cli(env, "cameras", "add", "porch",
                                 "rtsp://user:secret@127.0.0.1:9/s", "--disabled",
                                 "--trigger", "person,car", "--json"))
        assert added["name"] == "porch" and added["enabled"] is False
        assert "secret" not in json.dumps(added) and "***@127.0.0.1" in added["rtsp_url"]
        listed = iris_cli(env, "cameras", "list")
        assert listed.returncode == 0 and "porch" in listed.stdout
        assert "secret" not in listed.stdout

        enabled = iris_cli(env, "cameras", "enable", "porch")
        assert enabled.returncode == 0 and "enabled" in enabled.stdout
        disabled = iris_cli(env, "cameras", "disable", str(added["id"]))
        assert disabled.returncode == 0 and "disabled" in disabled.stdout
        assert as_json(iris_cli(env, "cameras", "list", "--json"))[0]["enabled"] is False

        now = datetime.now(UTC)
        engine = make_engine(f"sqlite:///{iris.data_dir.resolve() / 'iris.db'}")
        with Session(engine) as session:
            session.add(Event(camera_id=added["id"], label="person", score=0.9,
                              ts=now - timedelta(hours=1), duration=12.0))
            session.add(Event(camera_id=added["id"], label="car", score=0.8,
                              ts=now - timedelta(days=3), duration=5.0))
            session.commit()
        engine.dispose()
        recent = as_json(iris_cli(env, "events", "list", "--camera", "porch",
                                  "--since", "2h", "--json"))
        assert [e["label"] for e in recent["items"]] == ["person"]
        cars = as_json(iris_cli(env, "events", "list", "--label", "car", "--json"))
        assert [e["label"] for e in cars["items"]] == ["car"]
        table = iris_cli(env, "events", "list", "--since", "1w")
        assert "porch" in table.stdout and "person" in table.stdout and "car" in table.stdout
        assert iris_cli(env, "events", "list", "--camera", "garden").returncode == 5

        assert iris_cli({**env, "IRIS_API_KEY": "wrong-key-0123456789"},
                        "cameras", "list").returncode == 4

        doctor = as_json(iris_cli(env, "doctor", "--json"))
        checks = {c["name"]: c for c in doctor["checks"]}
        assert checks["iris"]["summary"].startswith(f"running at {iris.base_url}")
        assert checks[f"API port {iris.port}"]["summary"].startswith("in use by Iris")

        refused = iris_cli(env, "cameras", "rm", "porch")
        assert refused.returncode == 2 and "pass --yes" in refused.stderr
        removed = iris_cli(env, "cameras", "rm", "porch", "--yes")
        assert removed.returncode == 0 and "deleted camera" in removed.stdout
        assert iris_cli(env, "cameras", "rm", "porch", "--yes").returncode == 5
        assert as_json(iris_cli(env, "cameras", "list", "--json")) == []
    finally:
        iris.stop()
