"""`iris events list [--camera --label --since --until --limit]`: recorded events, newest first."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Any

import click

from iris.cli.api import Api, pass_api
from iris.cli.commands.cameras import find_camera
from iris.cli.exit_codes import CliError, ExitCode
from iris.cli.options import json_option
from iris.cli.output import local_time, print_json, print_table

_AGO = re.compile(r"^(\d+)\s*([smhdw])$")
_UNITS = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days", "w": "weeks"}


def parse_when(text: str, now: datetime | None = None) -> datetime:
    """``30m``, ``2h``, ``3d``, ``1w`` (that long ago), ``today``, or an ISO date/time
    (local time unless it names a zone).

    Raises:
        CliError: anything else (exit 2).
    """
    now = now or datetime.now(UTC)
    value = text.strip().lower()
    match = _AGO.match(value)
    if match:
        return now - timedelta(**{_UNITS[match.group(2)]: int(match.group(1))})
    if value == "today":
        return now.astimezone().replace(hour=0, minute=0, second=0, microsecond=0)
    try:
        moment = datetime.fromisoformat(text.strip())
    except ValueError:
        raise CliError(ExitCode.USAGE, f"cannot read the time {text!r}: use 30m, 2h, 3d, 1w, "
                                       "today or 2025-06-01T08:00") from None
    return moment if moment.tzinfo else moment.astimezone()


@click.group("events")
def command() -> None:
    """Recorded events."""


@command.command("list")
@click.option("--camera", help="Only this camera (id or name).")
@click.option("--label", help="Only this label (person, car, motion, manual …).")
@click.option("--since", help="From this time: 30m, 2h, 3d, today, or ISO.")
@click.option("--until", help="Before this time (same forms).")
@click.option("--limit", type=click.IntRange(1, 500), default=50, show_default=True)
@json_option
@pass_api
def list_events(api: Api, camera: str | None, label: str | None, since: str | None,
                until: str | None, limit: int, as_json: bool) -> None:
    """List events, newest first."""
    camera_id = find_camera(api, camera)["id"] if camera else None
    page: dict[str, Any] = api.get(
        "/api/events", camera_id=camera_id, label=label, limit=limit,
        **{"from": parse_when(since).isoformat() if since else None,
           "to": parse_when(until).isoformat() if until else None})
    if as_json:
        print_json(page)
        return
    items = page["items"]
    if not items:
        click.echo("no events")
        return
    names = {c["id"]: c["name"] for c in api.get("/api/cameras")}
    print_table(
        ["ID", "CAMERA", "LABEL", "SCORE", "STARTED", "DURATION", "CLIP"],
        [[e["id"], names.get(e["camera_id"], f"#{e['camera_id']}"),
          e["label"] + (f" ({e['person_name']})" if e.get("person_name") else ""),
          f"{e['score']:.2f}" if e.get("score") is not None else None,
          local_time(e["ts"]),
          "recording" if e["in_progress"] else
          (f"{e['duration']:.1f} s" if e.get("duration") is not None else None),
          "yes" if e.get("clip_url") else "no"]
         for e in items])
    if page["total"] > len(items):
        click.echo(f"showing {len(items)} of {page['total']} (--limit, --since to see others)")
