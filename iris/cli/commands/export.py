"""`iris export CAMERA FROM TO -o file.mp4`: a stretch of a camera's recordings as one MP4.

The server cuts the range from its recording store (`GET /api/recordings/{id}/clip`, no
transcoding; at most `recordings_clip_max_seconds`, an hour by default) and the file comes
down with a progress bar. It is written beside the target as `.part` and renamed when whole,
so an interrupted export never leaves a truncated file under the name asked for.
"""

from __future__ import annotations

import os
import re
from datetime import UTC, datetime
from pathlib import Path

import click
import httpx
from rich.console import Console
from rich.progress import (
    BarColumn,
    DownloadColumn,
    Progress,
    TextColumn,
    TimeRemainingColumn,
    TransferSpeedColumn,
)

from iris.cli.api import Api, pass_api
from iris.cli.commands.cameras import find_camera
from iris.cli.commands.events import parse_when
from iris.cli.exit_codes import CliError, ExitCode

CUT_WAIT_S = 300.0
"""How long the server may take to cut the clip before its first byte."""
CHUNK = 1 << 20
_FILENAME = re.compile(r'filename="([^"/\\]+)"')


def when(text: str) -> datetime:
    """`parse_when`'s forms (30m, 2h, today, ISO…) and `now`."""
    return datetime.now(UTC) if text.strip().lower() == "now" else parse_when(text)


def target_of(output: Path | None, disposition: str | None, camera_id: int) -> Path:
    """Where to write: `-o`, else the name the server offers, in the current folder."""
    if output is not None:
        return output
    match = _FILENAME.search(disposition or "")
    return Path(match.group(1) if match else f"camera-{camera_id}.mp4")


@click.command("export")
@click.argument("camera")
@click.argument("start", metavar="FROM")
@click.argument("end", metavar="TO")
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path),
              help="The MP4 to write (default: the name the server offers).")
@click.option("--force", is_flag=True, help="Replace the output file if it exists.")
@pass_api
def command(api: Api, camera: str, start: str, end: str, output: Path | None,
            force: bool) -> None:
    """Export CAMERA (id or name) from FROM to TO (2h, 30m, today, now, or ISO) as MP4."""
    since, until = when(start), when(end)
    if until <= since:
        raise CliError(ExitCode.USAGE, f"TO ({until.isoformat()}) must be after FROM "
                                       f"({since.isoformat()})")
    found = find_camera(api, camera)
    if output is not None and output.exists() and not force:
        raise CliError(ExitCode.USAGE, f"{output} exists: pass --force to replace it")
    params = {"from": since.isoformat(), "to": until.isoformat()}
    err = Console(stderr=True, highlight=False)
    cutting = err.status(f"cutting {found['name']!r} from {since:%Y-%m-%d %H:%M:%S} to "
                         f"{until:%H:%M:%S}…")
    cutting.start()
    try:
        with api.stream(f"/api/recordings/{found['id']}/clip", params=params,
                        first_byte_s=CUT_WAIT_S) as response:
            cutting.stop()
            target = target_of(output, response.headers.get("content-disposition"),
                               found["id"])
            if target.exists() and not force:
                raise CliError(ExitCode.USAGE, f"{target} exists: pass --force to replace it")
            written = download(response, target, err)
    finally:
        cutting.stop()
    click.echo(f"exported {target} ({written / 1e6:.1f} MB) from camera #{found['id']} "
               f"{found['name']!r}")


def download(response: httpx.Response, target: Path, err: Console) -> int:
    """Write the body to `target` (through `.part`) with a progress bar; the bytes written.

    Raises:
        CliError: the body ended short of its Content-Length (exit 1).
    """
    total = int(response.headers.get("content-length") or 0) or None
    part = target.with_name(target.name + ".part")
    written = 0
    columns = (TextColumn("{task.description}"), BarColumn(), DownloadColumn(),
               TransferSpeedColumn(), TimeRemainingColumn())
    try:
        with Progress(*columns, console=err, transient=not err.is_terminal) as progress, \
                part.open("wb") as handle:
            task = progress.add_task(target.name, total=total)
            for chunk in response.iter_bytes(CHUNK):
                handle.write(chunk)
                written += len(chunk)
                progress.update(task, advance=len(chunk))
        if total is not None and written != total:
            raise CliError(ExitCode.FAILURE, f"the download stopped at {written} of {total} "
                                             "bytes; run the export again")
        os.replace(part, target)
    finally:
        part.unlink(missing_ok=True)
    return written
