"""`iris up`'s start-up rules without starting anything: exposure, secrets, Ray's token."""

from __future__ import annotations

import os
import socket
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from iris.runner import (
    UnsafeSettings,
    banner,
    check_exposure,
    prepare_data_root,
    require_ray_token_auth,
    wait_for_port,
    write_gateway_include,
)
from iris.settings import ensure_api_key, ensure_gateway_secret, load_settings


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.mark.parametrize("host", ["0.0.0.0", "192.0.2.7", "::"])
def test_no_unauthenticated_api_beyond_loopback(host: str) -> None:
    with pytest.raises(UnsafeSettings, match="auth_required: false"):
        check_exposure(load_settings(host=host, auth_required=False))
    check_exposure(load_settings(host=host, auth_required=True))
    check_exposure(load_settings(host="127.0.0.1", auth_required=False))


def test_iris_up_refuses_to_expose_an_anonymous_api(tmp_path: Path) -> None:
    env = {**os.environ, "IRIS_DATA_DIR": str(tmp_path), "IRIS_HOST": "0.0.0.0",
           "IRIS_AUTH_REQUIRED": "false", "IRIS_CONFIG": str(tmp_path / "absent.yaml")}
    result = subprocess.run([sys.executable, "-m", "iris.cli", "up"], env=env,
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 2
    assert "refusing to listen on 0.0.0.0" in result.stderr


def test_data_root_and_new_files_are_private(tmp_path: Path) -> None:
    root = tmp_path / "data"
    root.mkdir(mode=0o755)
    before = os.umask(0o022)
    try:
        prepare_data_root(load_settings(data_dir=root))
        (root / "segments").mkdir()
        (root / "segments" / "a.mp4").write_bytes(b"x")
    finally:
        os.umask(before)
    assert mode(root) == 0o700
    assert mode(root / "segments") == 0o700
    assert mode(root / "segments" / "a.mp4") == 0o600


def test_secret_files_are_0600_on_every_start(tmp_path: Path) -> None:
    settings = load_settings(data_dir=tmp_path)
    key = ensure_api_key(settings).api_key
    secret = ensure_gateway_secret(settings).sso_gateway_secret
    assert key and secret and key != secret
    for name in ("api_key", "gateway_secret"):
        os.chmod(tmp_path / name, 0o644)
    assert ensure_api_key(settings).api_key == key
    assert ensure_gateway_secret(settings).sso_gateway_secret == secret
    assert mode(tmp_path / "api_key") == mode(tmp_path / "gateway_secret") == 0o600


def test_gateway_include_holds_the_nginx_line(tmp_path: Path) -> None:
    settings = ensure_gateway_secret(load_settings(data_dir=tmp_path))
    path = write_gateway_include(settings)
    assert path.read_text() == (f'proxy_set_header X-Iris-Gateway '
                                f'"{settings.sso_gateway_secret}";\n')
    assert mode(path) == 0o600


def test_banner_says_where_secrets_are_never_what(tmp_path: Path) -> None:
    settings = ensure_gateway_secret(ensure_api_key(load_settings(data_dir=tmp_path)))
    write_gateway_include(settings)
    text = "\n".join(banner(settings, "http://127.0.0.1:8265"))
    assert settings.api_key and settings.api_key not in text
    assert settings.sso_gateway_secret and settings.sso_gateway_secret not in text
    assert str(tmp_path / "api_key") in text and str(tmp_path / "gateway_secret") in text
    assert "nginx-gateway.conf" in text and "http://127.0.0.1:8265" in text


def test_settings_repr_hides_secrets() -> None:
    settings = load_settings(api_key="k-secret", sso_gateway_secret="g-secret")
    assert "k-secret" not in repr(settings) and "g-secret" not in repr(settings)


def test_ray_runs_only_with_token_auth() -> None:
    env: dict[str, str] = {}
    require_ray_token_auth(env)
    assert env["RAY_AUTH_MODE"] == "token"
    with pytest.raises(UnsafeSettings, match="token authentication"):
        require_ray_token_auth({"RAY_AUTH_MODE": "disabled"})


def test_iris_up_waits_for_its_port_and_says_who_holds_it() -> None:
    with socket.socket() as held:
        held.bind(("127.0.0.1", 0))
        held.listen()
        port = held.getsockname()[1]
        with pytest.raises(UnsafeSettings, match=f"127.0.0.1:{port} is in use"):
            wait_for_port("127.0.0.1", port, timeout_s=0.2)
    wait_for_port("127.0.0.1", port, timeout_s=0)  # released: returns at once


def test_a_port_left_in_time_wait_by_a_killed_server_is_waited_for() -> None:
    """What a crash with a client connected leaves: Serve's proxy could not bind for 60 s."""
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen()
        port = server.getsockname()[1]
        client = socket.create_connection(("127.0.0.1", port))
        accepted, _ = server.accept()
    accepted.close()  # the server's side closes first: its port goes to TIME_WAIT
    assert client.recv(1) == b""
    client.close()
    with pytest.raises(UnsafeSettings, match="did not close within"):
        wait_for_port("127.0.0.1", port, timeout_s=0.2)
