"""`iris doctor`: what is wrong with this box for Iris, in plain words, and what to do."""

from __future__ import annotations

import click
from rich.text import Text

from iris.cli import settings_of
from iris.cli.exit_codes import CliError, ExitCode
from iris.cli.options import json_option
from iris.cli.output import console, print_json
from iris.models.manifest import ManifestError, active_manifest

MARKS = {"ok": ("ok  ", "green"), "warn": ("warn", "yellow"), "fail": ("FAIL", "bold red")}


@click.command("doctor")
@json_option
@click.pass_context
def command(ctx: click.Context, as_json: bool) -> int:
    """Check ffmpeg, the data root, models, ports, Ray, GPU and the clock.

    Exit status 0 when nothing failed (warnings allowed), 1 when something did.
    """
    from iris.cli.doctor_checks import run_checks

    settings = settings_of(ctx)
    try:
        manifest = active_manifest()
    except ManifestError as exc:
        raise CliError(ExitCode.USAGE, str(exc)) from None
    checks = run_checks(settings, manifest)
    failed = [c for c in checks if c.status == "fail"]
    if as_json:
        print_json({"ok": not failed, "checks": [c.as_dict() for c in checks]})
    else:
        out = console()
        for check in checks:
            mark, style = MARKS[check.status]
            line = Text.assemble((mark, style), "  ", (f"{check.name:<20}", "bold"),
                                 check.summary)
            out.print(line)
            if check.fix and check.status != "ok":
                out.print(Text(f"{'':26}→ {check.fix}", style="dim"))
        warned = sum(c.status == "warn" for c in checks)
        out.print(f"{len(failed)} failed, {warned} warnings, "
                  f"{len(checks) - len(failed) - warned} ok")
    return int(ExitCode.FAILURE if failed else ExitCode.OK)
