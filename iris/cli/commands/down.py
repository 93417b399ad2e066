"""`iris down`: stop the `iris up` of this data dir (SIGTERM, then wait for it)."""

from __future__ import annotations

import os
import signal
import time

import click

from iris.cli import settings_of
from iris.cli.exit_codes import CliError, ExitCode
from iris.layout import Layout

STOP_WAIT_S = 60


@click.command("down")
@click.pass_context
def command(ctx: click.Context) -> int:
    """Stop a running `iris up`."""
    settings = settings_of(ctx)
    pid_file = Layout(settings.root).pid_file
    if not pid_file.is_file():
        raise CliError(ExitCode.UNREACHABLE, "not running (no pid file)")
    pid = int(pid_file.read_text().strip())
    try:
        os.kill(pid, signal.SIGTERM)
    except ProcessLookupError:
        pid_file.unlink(missing_ok=True)
        raise CliError(ExitCode.UNREACHABLE, "not running (stale pid file removed)") from None
    deadline = time.monotonic() + STOP_WAIT_S
    while time.monotonic() < deadline:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            click.echo("Iris stopped.")
            return 0
        time.sleep(0.2)
    raise CliError(ExitCode.FAILURE, f"still running after {STOP_WAIT_S} s")
