"""Options several commands share: ``--json`` for scripts, ``--yes`` and the confirmation it
skips before anything is deleted."""

from __future__ import annotations

import sys

import click

from iris.cli.exit_codes import CliError, ExitCode

json_option = click.option("--json", "as_json", is_flag=True,
                           help="Print JSON (for scripts) instead of a table.")


yes_option = click.option("--yes", "-y", is_flag=True,
                          help="Do not ask (needed without a terminal).")


def confirm_destructive(yes: bool, question: str, consequence: str) -> None:
    """Ask `question` on a terminal unless `yes`; without a terminal, refuse (exit 2) naming
    `consequence` and `--yes`, so a script never deletes by accident."""
    if yes:
        return
    if not sys.stdin.isatty():
        raise CliError(ExitCode.USAGE, f"{consequence}: pass --yes to do it without a terminal")
    click.confirm(question, abort=True)
