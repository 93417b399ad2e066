"""How commands print: rich tables for people, JSON for scripts."""

from __future__ import annotations

import json
import sys
from collections.abc import Sequence
from datetime import datetime
from typing import Any

import click
from rich.console import Console
from rich.table import Table


def console() -> Console:
    """stdout, at least 120 columns wide when it is not a terminal (pipes, logs)."""
    return Console(width=None if sys.stdout.isatty() else 120, highlight=False)


def print_json(data: Any) -> None:
    """JSON on stdout, dates as ISO text."""
    click.echo(json.dumps(data, indent=2, default=str))


def print_table(columns: Sequence[str], rows: Sequence[Sequence[Any]],
                title: str | None = None) -> None:
    """A table with one row per item (``None`` shows as ``-``)."""
    table = Table(*columns, title=title, title_justify="left", box=None, pad_edge=False)
    for row in rows:
        table.add_row(*("-" if cell is None else str(cell) for cell in row))
    console().print(table)


def local_time(value: str | None) -> str | None:
    """An API timestamp (UTC ISO) in this machine's local time, to the second."""
    if not value:
        return None
    moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    if moment.tzinfo is None:
        from datetime import UTC

        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone().strftime("%Y-%m-%d %H:%M:%S")
