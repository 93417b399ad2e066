"""`iris keys create|list|revoke`: API keys of the running instance, each with a role and
optionally its cameras.

They go through the API (`/api/system/keys`, admin only) like every other command, so they
work from any machine that holds the admin key, with SQLite or PostgreSQL alike, and the
server stays the one place that writes keys. The token is printed once, at creation.
"""

from __future__ import annotations

from typing import Any

import click

from iris.cli.api import Api, pass_api
from iris.cli.commands.cameras import find_camera
from iris.cli.exit_codes import CliError, ExitCode
from iris.cli.options import confirm_destructive, json_option, yes_option
from iris.cli.output import local_time, print_json, print_table

PATH = "/api/system/keys"


@click.group("keys")
def command() -> None:
    """API keys: viewers who watch, admins who change; optionally limited to some cameras."""


def _cameras(key: dict[str, Any]) -> str:
    return "all" if key.get("cameras") is None else ", ".join(f"#{c}" for c in key["cameras"])


@command.command("create")
@click.argument("name")
@click.option("--role", type=click.Choice(["viewer", "admin"]), default="viewer",
              show_default=True, help="viewer: list and watch; admin: everything.")
@click.option("--camera", "cameras", multiple=True, metavar="CAMERA",
              help="Only this camera (id or name); repeat for several. Viewers only.")
@json_option
@pass_api
def create(api: Api, name: str, role: str, cameras: tuple[str, ...],
           as_json: bool) -> None:
    """Create a key called NAME and print its token (shown this once)."""
    if cameras and role == "admin":
        raise CliError(ExitCode.USAGE, "an admin key sees every camera: --camera is for "
                                       "viewer keys")
    ids = sorted({int(find_camera(api, ref)["id"]) for ref in cameras}) or None
    key = api.post(PATH, {"name": name, "role": role, "cameras": ids})
    if as_json:
        print_json(key)
        return
    click.echo(f"created {key['role']} key {key['name']!r} ({key['key_id']}), cameras: "
               f"{_cameras(key)}")
    click.echo("token (shown once; keep it where you keep passwords):", err=True)
    click.echo(key["token"])


@command.command("list")
@json_option
@pass_api
def list_keys(api: Api, as_json: bool) -> None:
    """List the keys (never their tokens)."""
    keys = api.get(PATH)
    if as_json:
        print_json(keys)
        return
    if not keys:
        click.echo("no keys besides the admin key (create one: iris keys create NAME)")
        return
    print_table(["ID", "NAME", "ROLE", "CAMERAS", "CREATED"],
                [[k["key_id"], k["name"], k["role"], _cameras(k), local_time(k["created_at"])]
                 for k in keys])


@command.command("revoke")
@click.argument("key")
@yes_option
@pass_api
def revoke(api: Api, key: str, yes: bool) -> None:
    """Revoke KEY (its id or name): it stops working at once."""
    confirm_destructive(yes, f"Revoke the key {key!r}?",
                        f"revoking {key!r} locks out whoever uses it")
    api.delete(f"{PATH}/{key}")
    click.echo(f"revoked {key!r}")
