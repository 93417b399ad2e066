"""What `iris` exit statuses mean, for scripts (also in the README's CLI section)."""

from __future__ import annotations

from enum import IntEnum


class ExitCode(IntEnum):
    """Exit statuses of every `iris` command."""

    OK = 0
    """Done; for `iris doctor`: no check failed."""
    FAILURE = 1
    """The command ran and failed (a download refused, a check failed, the server erred)."""
    USAGE = 2
    """A bad command line, setting or value (the message names it)."""
    UNREACHABLE = 3
    """Iris is not running, or nothing answers at its address."""
    AUTH = 4
    """No API key, or the running instance refused it."""
    NOT_FOUND = 5
    """The camera or event named does not exist."""


class CliError(Exception):
    """A failure to report as ``iris: <message>`` with its exit status."""

    def __init__(self, code: ExitCode, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
