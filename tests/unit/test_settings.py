"""Settings: defaults, YAML, env precedence, and start-up refusing bad values by name."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from iris.settings import SettingsError, ensure_api_key, load_settings


def test_defaults_bind_loopback_with_auth(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("IRIS_CONFIG", str(tmp_path / "absent.yaml"))
    settings = load_settings()
    assert (settings.host, settings.port) == ("127.0.0.1", 8000)
    assert settings.auth_required is True
    assert settings.sso_email_header == "X-Email"
    assert settings.live_mjpeg_fps == 10
    assert settings.status_stale_seconds == 30
    assert settings.resolved_database_url == f"sqlite:///{settings.root / 'iris.db'}"


def test_env_overrides_yaml(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    config = tmp_path / "iris.yaml"
    config.write_text("port: 9001\nlive_mjpeg_fps: 5\n")
    monkeypatch.setenv("IRIS_CONFIG", str(config))
    monkeypatch.setenv("IRIS_PORT", "9002")
    settings = load_settings()
    assert settings.port == 9002
    assert settings.live_mjpeg_fps == 5


@pytest.mark.parametrize(
    ("field", "value"),
    [("port", "70000"), ("live_mjpeg_fps", "0"), ("detector_backend", "tensorflow"),
     ("detector_num_gpus", "-1"), ("auth_required", "maybe")],
)
def test_invalid_value_names_the_field(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, field: str, value: str
) -> None:
    monkeypatch.setenv("IRIS_CONFIG", str(tmp_path / "absent.yaml"))
    monkeypatch.setenv(f"IRIS_{field.upper()}", value)
    with pytest.raises(SettingsError, match=f"'{field}'"):
        load_settings()


def test_unknown_yaml_key_is_refused(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    config = tmp_path / "iris.yaml"
    config.write_text("prot: 8000\n")
    monkeypatch.setenv("IRIS_CONFIG", str(config))
    with pytest.raises(SettingsError, match="'prot'"):
        load_settings()


def test_cli_stops_on_invalid_setting(tmp_path: Path) -> None:
    env = {"IRIS_PORT": "not-a-port", "IRIS_CONFIG": str(tmp_path / "absent.yaml"),
           "PATH": "/usr/bin:/bin"}
    result = subprocess.run([sys.executable, "-m", "iris.cli", "status"], env=env,
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 2
    assert "invalid setting 'port'" in result.stderr


def test_api_key_is_created_once_and_kept(tmp_path: Path) -> None:
    settings = load_settings(data_dir=tmp_path)
    first = ensure_api_key(settings).api_key
    second = ensure_api_key(settings).api_key
    assert first and first == second
    assert (tmp_path / "api_key").stat().st_mode & 0o777 == 0o600
    assert ensure_api_key(load_settings(data_dir=tmp_path, api_key="given")).api_key == "given"


def test_embedded_ray_has_room_for_the_models_and_cameras_on_a_small_box() -> None:
    from iris.runner import local_num_cpus

    settings = load_settings()
    two_cores = local_num_cpus(settings, cores=2)
    models = 1 + 0.5 + 0.5  # Detector, Embedder, ingress reservations (iris/serve/app.py)
    assert two_cores - models >= 16 * settings.camera_num_cpus  # 16 cameras can start
    assert local_num_cpus(settings, cores=32) == 32
    assert local_num_cpus(load_settings(ray_num_cpus=3), cores=2) == 3
