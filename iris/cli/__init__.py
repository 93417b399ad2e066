"""`iris …`: the command-line entry point (``iris.cli:main``).

Each command is one module in `iris.cli.commands` that defines ``command`` (a click command or
group) and is named for it: adding ``iris/cli/commands/export.py`` adds ``iris export``. Modules
load only when their command runs, so ``iris up`` never imports what ``iris doctor`` needs.
"""

from __future__ import annotations

import importlib
import pkgutil
import sys
from typing import Any

import click

from iris.cli.exit_codes import CliError, ExitCode
from iris.settings import Settings, SettingsError, load_settings

COMMANDS_PACKAGE = "iris.cli.commands"
RESERVED: dict[str, str] = {}
"""Names kept for commands still to come (name -> what it will do); they answer "not in this
version" until then. None at present."""


def command_names() -> list[str]:
    """Every command: one per module in `iris.cli.commands`."""
    package = importlib.import_module(COMMANDS_PACKAGE)
    return sorted(m.name.replace("_", "-") for m in pkgutil.iter_modules(package.__path__)
                  if not m.name.startswith("_"))


class Commands(click.Group):
    """A group whose commands are the modules of `iris.cli.commands`, imported on use."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return command_names()

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name in command_names():
            module = importlib.import_module(f"{COMMANDS_PACKAGE}.{cmd_name.replace('-', '_')}")
            command: click.Command = module.command
            return command
        if cmd_name in RESERVED:
            return _reserved(cmd_name)
        return None


def _reserved(name: str) -> click.Command:
    @click.command(name, hidden=True, help=RESERVED[name],
                   context_settings={"ignore_unknown_options": True})
    @click.argument("args", nargs=-1, type=click.UNPROCESSED)
    def later(args: tuple[str, ...]) -> None:
        raise CliError(ExitCode.USAGE, f"`iris {name}` ({RESERVED[name]}) is not in this "
                                       "version yet")

    return later


def settings_of(ctx: click.Context) -> Settings:
    """The instance's settings, loaded once per run (a bad value exits 2 naming the field)."""
    root = ctx.find_root()
    cached = root.meta.get("iris.settings")
    if cached is None:
        try:
            cached = load_settings()
        except SettingsError as exc:
            raise CliError(ExitCode.USAGE, str(exc)) from None
        root.meta["iris.settings"] = cached
    assert isinstance(cached, Settings)
    return cached


@click.group(cls=Commands, context_settings={"help_option_names": ["-h", "--help"]})
def cli() -> None:
    """Iris video recorder. Exit status: 0 ok, 1 failure, 2 usage, 3 not running,
    4 auth, 5 not found."""


def main(argv: list[str] | None = None) -> int:
    """Run one command; returns its exit status (see `iris.cli.exit_codes.ExitCode`)."""
    try:
        result: Any = cli.main(args=argv, prog_name="iris", standalone_mode=False)
    except CliError as exc:
        click.echo(f"iris: {exc.message}", err=True)
        return int(exc.code)
    except click.UsageError as exc:
        exc.show()
        return int(ExitCode.USAGE)
    except click.ClickException as exc:
        exc.show()
        return int(ExitCode.FAILURE)
    except click.exceptions.Exit as exc:
        return int(exc.exit_code)
    except click.Abort:
        click.echo("iris: aborted", err=True)
        return int(ExitCode.FAILURE)
    return int(result) if isinstance(result, int) else int(ExitCode.OK)


if __name__ == "__main__":
    sys.exit(main())
