"""`iris cameras list|add|rm|enable|disable`: the cameras of the running instance.

A camera is named by its id or its name (``iris cameras disable porch``).
"""

from __future__ import annotations

from typing import Any

import click

from iris.cli.api import Api, pass_api
from iris.cli.exit_codes import CliError, ExitCode
from iris.cli.options import confirm_destructive, json_option, yes_option
from iris.cli.output import local_time, print_json, print_table


def find_camera(api: Api, ref: str) -> dict[str, Any]:
    """The camera whose id or (case-insensitive) name is ``ref``.

    Raises:
        CliError: no such camera (exit 5), or several share the name (exit 2).
    """
    if ref.isdigit():
        camera: dict[str, Any] = api.get(f"/api/cameras/{int(ref)}")
        return camera
    matches = [c for c in api.get("/api/cameras") if c["name"].lower() == ref.lower()]
    if not matches:
        raise CliError(ExitCode.NOT_FOUND, f"no camera named {ref!r} (`iris cameras list`)")
    if len(matches) > 1:
        ids = ", ".join(f"#{c['id']}" for c in matches)
        raise CliError(ExitCode.USAGE, f"several cameras are named {ref!r} ({ids}): use the id")
    return matches[0]


@click.group("cameras")
def command() -> None:
    """List, add, remove, enable and disable cameras."""


@command.command("list")
@json_option
@pass_api
def list_cameras(api: Api, as_json: bool) -> None:
    """List cameras with their status (URLs masked)."""
    cameras = api.get("/api/cameras")
    if as_json:
        print_json(cameras)
        return
    if not cameras:
        click.echo("no cameras (add one: iris cameras add NAME rtsp://…)")
        return
    print_table(
        ["ID", "NAME", "ENABLED", "STATUS", "FPS", "LAST SEEN", "URL"],
        [[c["id"], c["name"], "yes" if c["enabled"] else "no",
          c["status"] + (f" ({c['status_reason']})" if c.get("status_reason") else ""),
          f"{c['fps']:.1f}", local_time(c.get("last_seen")), c["rtsp_url"]]
         for c in cameras])


@command.command("add")
@click.argument("name")
@click.argument("url")
@click.option("--disabled", is_flag=True, help="Add it without starting it.")
@click.option("--trigger", "trigger_classes", metavar="CLASSES",
              help="COCO classes that start a recording, e.g. person,car (default person).")
@click.option("--pre", "pre_seconds", type=click.IntRange(0, 120), help="Seconds before.")
@click.option("--post", "post_seconds", type=click.IntRange(0, 300), help="Seconds after.")
@click.option("--retention-days", type=click.IntRange(0, 3650), help="0 keeps forever.")
@json_option
@pass_api
def add(api: Api, name: str, url: str, disabled: bool, as_json: bool,
        **tuning: Any) -> None:
    """Add a camera NAME streaming from URL (rtsp://user:pass@host/path)."""
    body = {"name": name, "rtsp_url": url, "enabled": not disabled,
            **{k: v for k, v in tuning.items() if v is not None}}
    camera = api.post("/api/cameras", body)
    if as_json:
        print_json(camera)
        return
    click.echo(f"added camera #{camera['id']} {camera['name']!r} ({camera['rtsp_url']}), "
               f"{'enabled' if camera['enabled'] else 'disabled'}")


@command.command("rm")
@click.argument("camera")
@yes_option
@pass_api
def remove(api: Api, camera: str, yes: bool) -> None:
    """Delete CAMERA (id or name) with all its events, clips and recordings."""
    found = find_camera(api, camera)
    label = f"camera #{found['id']} {found['name']!r}"
    confirm_destructive(yes, f"Delete {label} and all its events and recordings?",
                        f"deleting {label} removes all its recordings")
    api.delete(f"/api/cameras/{found['id']}")
    click.echo(f"deleted {label}")


def _set_enabled(api: Api, camera: str, enabled: bool) -> None:
    found = find_camera(api, camera)
    updated = api.put(f"/api/cameras/{found['id']}", {"enabled": enabled})
    click.echo(f"camera #{updated['id']} {updated['name']!r} "
               f"{'enabled' if updated['enabled'] else 'disabled'}")


@command.command("enable")
@click.argument("camera")
@pass_api
def enable(api: Api, camera: str) -> None:
    """Start recording CAMERA (id or name)."""
    _set_enabled(api, camera, True)


@command.command("disable")
@click.argument("camera")
@pass_api
def disable(api: Api, camera: str) -> None:
    """Stop CAMERA (id or name); its recordings stay."""
    _set_enabled(api, camera, False)
