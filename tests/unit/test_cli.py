"""The `iris` command line: one module per command, exit statuses that mean something, times
an operator types."""

from __future__ import annotations

import pkgutil
import socket
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

import iris.cli.commands
from iris.cli import command_names, main
from iris.cli.commands.events import parse_when
from iris.cli.exit_codes import CliError, ExitCode


@pytest.fixture(autouse=True)
def instance(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    with socket.socket() as sock:  # a port where nothing listens
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    monkeypatch.setenv("IRIS_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("IRIS_CONFIG", str(tmp_path / "none.yaml"))
    monkeypatch.setenv("IRIS_PORT", str(port))
    monkeypatch.delenv("IRIS_API_KEY", raising=False)
    return tmp_path / "data"


def test_every_module_in_commands_is_a_command(capsys: pytest.CaptureFixture[str]) -> None:
    modules = sorted(m.name for m in pkgutil.iter_modules(iris.cli.commands.__path__))
    assert command_names() == modules
    assert {"up", "down", "status", "models", "cameras", "events", "doctor"} <= set(modules)
    assert main(["--help"]) == 0
    listed = capsys.readouterr().out
    assert all(f"  {name} " in listed for name in modules)
    assert {"export", "keys"} <= set(modules)


def test_no_api_key_is_exit_4(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["cameras", "list"]) == ExitCode.AUTH
    assert "no API key: set IRIS_API_KEY" in capsys.readouterr().err


def test_key_file_is_read_and_nothing_running_is_exit_3(
        instance: Path, capsys: pytest.CaptureFixture[str]) -> None:
    instance.mkdir()
    (instance / "api_key").write_text("k" * 32 + "\n")
    for argv in (["cameras", "list"], ["events", "list"], ["status"], ["down"]):
        assert main(argv) == ExitCode.UNREACHABLE, argv
    assert "Iris is not running at http://127.0.0.1:" in capsys.readouterr().err


def test_usage_errors_are_exit_2(monkeypatch: pytest.MonkeyPatch,
                                 capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["no-such-command"]) == ExitCode.USAGE
    assert main(["cameras", "add", "only-a-name"]) == ExitCode.USAGE
    monkeypatch.setenv("IRIS_API_KEY", "k" * 32)
    assert main(["events", "list", "--since", "last tuesday"]) == ExitCode.USAGE
    assert "cannot read the time 'last tuesday'" in capsys.readouterr().err
    monkeypatch.setenv("IRIS_PORT", "eighty")
    assert main(["status"]) == ExitCode.USAGE
    assert "invalid setting 'port'" in capsys.readouterr().err


NOW = datetime(2030, 6, 1, 12, 0, tzinfo=UTC)


@pytest.mark.parametrize(("text", "expected"), [
    ("30m", NOW - timedelta(minutes=30)),
    ("2h", NOW - timedelta(hours=2)),
    ("3d", NOW - timedelta(days=3)),
    ("1w", NOW - timedelta(weeks=1)),
    ("2030-05-31T08:00:00+00:00", datetime(2030, 5, 31, 8, tzinfo=UTC)),
])
def test_since_reads_durations_and_iso(text: str, expected: datetime) -> None:
    assert parse_when(text, now=NOW) == expected


def test_since_without_zone_is_local_time() -> None:
    moment = parse_when("2030-05-31T08:00", now=NOW)
    assert moment.tzinfo is not None
    assert moment.replace(tzinfo=None) == datetime(2030, 5, 31, 8)


def test_since_today_is_local_midnight() -> None:
    moment = parse_when("today", now=NOW)
    assert (moment.hour, moment.minute) == (0, 0) and moment <= NOW


def test_unreadable_time_is_a_usage_error() -> None:
    with pytest.raises(CliError) as raised:
        parse_when("soonish", now=NOW)
    assert raised.value.code == ExitCode.USAGE
