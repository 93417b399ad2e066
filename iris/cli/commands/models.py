"""`iris models list|pull`: which weights are in place; fetch the missing ones (pinned SHA-256,
resumable, from upstream or a mirror)."""

from __future__ import annotations

from pathlib import Path

import click

from iris.cli import settings_of
from iris.cli.exit_codes import CliError, ExitCode
from iris.cli.options import json_option
from iris.cli.output import print_json
from iris.models.fetch_plan import plan
from iris.models.manifest import Manifest, ManifestError, active_manifest
from iris.settings import Settings


@click.group("models")
def command() -> None:
    """Manage detector and face model weights."""


def _manifest(path: Path | None) -> Manifest:
    try:
        return active_manifest(path)
    except ManifestError as exc:
        raise CliError(ExitCode.USAGE, str(exc)) from None


def _list(settings: Settings, manifest_path: Path | None, as_json: bool) -> int:
    needs = plan(settings, _manifest(manifest_path))
    if as_json:
        print_json([{"kind": n.kind, "name": n.label, "path": str(n.target),
                     "present": n.present, "pinned": n.entry.name if n.entry else None}
                    for n in needs])
        return 0
    detector, faces = needs
    print(f"detector ({settings.detector_backend}): {detector.target} "
          f"[{'present' if detector.present else 'missing'}]")
    print(f"faces ({faces.label}): {faces.target} [{'present' if faces.present else 'missing'}]")
    return 0


@command.command("list")
@click.option("--manifest", "manifest_path", type=click.Path(path_type=Path),
              help="A JSON manifest instead of the pinned list.")
@json_option
@click.pass_context
def list_models(ctx: click.Context, manifest_path: Path | None, as_json: bool) -> int:
    """Show which model files are present."""
    return _list(settings_of(ctx), manifest_path, as_json)


@command.command("pull")
@click.option("--mirror", metavar="URL",
              help="Fetch from this mirror (same file names and hashes) instead of upstream; "
                   "default: the models_base_url setting.")
@click.option("--manifest", "manifest_path", type=click.Path(path_type=Path),
              help="A JSON manifest instead of the pinned list (a mirror with its own files).")
@click.pass_context
def pull(ctx: click.Context, mirror: str | None, manifest_path: Path | None) -> int:
    """Download yolo11n (exported to ONNX) and the insightface buffalo_l pack."""
    from iris.models.fetch_models import pull_models
    from iris.models.fetch_progress import progress_for

    settings = settings_of(ctx)
    manifest = _manifest(manifest_path)
    report = pull_models(settings, progress=progress_for(), base_url=mirror,
                         manifest=manifest)
    if report.offline:
        detector, faces = plan(settings, manifest)
        raise CliError(ExitCode.FAILURE,
                       f"{report.summary()}. This machine looks offline: copy the weights by "
                       f"hand instead (a YOLO .onnx/.pt to {detector.target} and the "
                       f"insightface pack folder to {faces.target}/). Without them Iris "
                       "records on motion and face features stay off.")
    if report.failed:
        raise CliError(ExitCode.FAILURE, report.summary())
    print(report.summary())
    return _list(settings, manifest_path, as_json=False)
