"""`iris status`: the running instance, its detector and its cameras."""

from __future__ import annotations

from typing import Any

import click

from iris.cli.api import Api, pass_api
from iris.cli.backend_state import detector_state
from iris.cli.exit_codes import CliError
from iris.cli.options import json_option
from iris.cli.output import print_json


@click.command("status")
@json_option
@pass_api
def command(api: Api, as_json: bool) -> int:
    """Print cameras and workers of a running instance."""
    health = api.request("GET", "/health").json()
    cameras = api.get("/api/cameras")
    try:
        backend: dict[str, Any] = api.get("/api/system").get("backend", {})
    except CliError:
        backend = {}
    if as_json:
        print_json({"url": api.base, "health": health, "backend": backend, "cameras": cameras})
        return 0
    print(f"Iris {health['version']} at {api.base}: {health['status']}")
    print(f"  detector: {detector_state(backend)}")
    print(f"  GPU memory: {health['gpu']['used_mb']}/{health['gpu']['total_mb']} MiB")
    print(f"  cameras: {len(cameras)}")
    for cam in cameras:
        reason = f"  ({cam['status_reason']})" if cam.get("status_reason") else ""
        detector = f"  detector: {cam['detector']}" if cam.get("detector") else ""
        print(f"    #{cam['id']:<4} {cam['name'][:30]:<30} {cam['status']:<10}"
              f" {cam['fps']:5.1f} fps  last seen {cam['last_seen'] or '-'}{reason}{detector}")
    return 0
