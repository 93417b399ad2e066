"""`iris up [--demo]`: start Ray, the API and the web app in the foreground; Ctrl-C stops."""

from __future__ import annotations

import click

from iris.cli import settings_of
from iris.cli.exit_codes import CliError, ExitCode


@click.command("up")
@click.option("--demo", is_flag=True, help="Add a demo camera (a generated clip).")
@click.pass_context
def command(ctx: click.Context, demo: bool) -> int:
    """Start Ray, the API and the web app; Ctrl-C or `iris down` stops."""
    settings = settings_of(ctx)
    from iris.runner import UnsafeSettings, run_forever

    try:
        return run_forever(settings, demo=demo)
    except UnsafeSettings as exc:
        raise CliError(ExitCode.USAGE, str(exc)) from None
