"""`iris keys` and `iris export` against a real HTTP server (the API in uvicorn, no Ray) over a
real recording store: what an operator types, what they read, the exit statuses."""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
import uvicorn

from iris.cli import main
from iris.cli.exit_codes import ExitCode
from iris.serve.api import create_api
from iris.settings import load_settings
from tests.support.media import probe
from tests.support.runtime import FakeRuntime
from tests.support.wait import wait_for
from tests.unit.recording.conftest import Store, clip8  # noqa: F401  (fixture)
from tests.unit.recording.support import WALL0

KEY = "unit-admin-key-0123456789"


def iso(epoch: float) -> str:
    return datetime.fromtimestamp(epoch, UTC).isoformat()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def server(tmp_path: Path, clip8: Path, monkeypatch: pytest.MonkeyPatch  # noqa: F811
           ) -> Iterator[Store]:
    """An instance serving 8 s of camera "porch" at WALL0, the CLI pointed at it."""
    store = Store(tmp_path, name="porch")
    store.record(clip8, WALL0)
    port = free_port()
    settings = load_settings(data_dir=store.root, api_key=KEY, port=port,
                             database_url=f"sqlite:///{tmp_path / 'iris.db'}",
                             recordings_clip_max_seconds=60)
    app = create_api(settings, FakeRuntime())
    web = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=web.run, daemon=True)
    thread.start()
    wait_for(lambda: web.started, timeout=30, what="uvicorn started")
    for name, value in (("IRIS_DATA_DIR", str(store.root)), ("IRIS_PORT", str(port)),
                        ("IRIS_API_KEY", KEY), ("IRIS_CONFIG", str(tmp_path / "none.yaml"))):
        monkeypatch.setenv(name, value)
    try:
        yield store
    finally:
        web.should_exit = True
        thread.join(timeout=30)


def test_keys_create_list_and_revoke(server: Store, monkeypatch: pytest.MonkeyPatch,
                                     capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["keys", "create", "kitchen-tablet", "--camera", "porch"]) == ExitCode.OK
    out, err = capsys.readouterr()
    token = out.strip().splitlines()[-1]
    assert "created viewer key 'kitchen-tablet'" in out and f"#{server.camera_id}" in out
    assert "shown once" in err and token.startswith("iris_")

    assert main(["keys", "list"]) == ExitCode.OK
    listed = capsys.readouterr().out
    assert "kitchen-tablet" in listed and "viewer" in listed and token not in listed
    assert main(["keys", "create", "ops", "--role", "admin", "--camera", "porch"]) == 2
    assert "--camera is for viewer keys" in capsys.readouterr().err

    # The new key watches, and may not manage keys (exit 4 says why).
    monkeypatch.setenv("IRIS_API_KEY", token)
    assert main(["cameras", "list"]) == ExitCode.OK
    capsys.readouterr()
    assert main(["keys", "list"]) == ExitCode.AUTH
    assert "Viewers cannot manage API keys" in capsys.readouterr().err

    monkeypatch.setenv("IRIS_API_KEY", KEY)
    assert main(["keys", "revoke", "kitchen-tablet"]) == ExitCode.USAGE  # no terminal: --yes
    assert main(["keys", "revoke", "kitchen-tablet", "--yes"]) == ExitCode.OK
    assert main(["keys", "revoke", "kitchen-tablet", "--yes"]) == ExitCode.NOT_FOUND
    monkeypatch.setenv("IRIS_API_KEY", token)
    assert main(["cameras", "list"]) == ExitCode.AUTH
    assert "Invalid API key." in capsys.readouterr().err


def test_export_writes_the_range_as_one_mp4(server: Store, tmp_path: Path,
                                            capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "porch.mp4"
    argv = ["export", "porch", iso(WALL0 + 1), iso(WALL0 + 7), "-o", str(out)]
    assert main(argv) == ExitCode.OK, capsys.readouterr().err
    assert f"exported {out}" in capsys.readouterr().out
    duration = float(probe(out)["format"]["duration"])
    assert 5.0 <= duration <= 8.0
    assert not list(tmp_path.glob("*.part"))

    assert main(argv) == ExitCode.USAGE
    assert "exists: pass --force" in capsys.readouterr().err
    assert main([*argv, "--force"]) == ExitCode.OK


@pytest.mark.parametrize(("argv", "code", "says"), [
    (["export", "garden", iso(WALL0), iso(WALL0 + 5)], ExitCode.NOT_FOUND, "no camera named"),
    (["export", "porch", iso(WALL0 + 5), iso(WALL0)], ExitCode.USAGE, "must be after FROM"),
    (["export", "porch", iso(WALL0), iso(WALL0 + 600)], ExitCode.USAGE, "at most 60 s"),
    (["export", "porch", iso(WALL0 - 100), iso(WALL0 - 50)], ExitCode.NOT_FOUND,
     "Nothing was recorded between"),
])
def test_export_says_what_is_wrong(server: Store, tmp_path: Path, argv: list[str],
                                   code: ExitCode, says: str,
                                   capsys: pytest.CaptureFixture[str]) -> None:
    assert main([*argv, "-o", str(tmp_path / "x.mp4")]) == code
    assert says in capsys.readouterr().err
    assert not (tmp_path / "x.mp4").exists() and not list(tmp_path.glob("*.part"))
