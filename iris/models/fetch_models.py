"""Fetching the models this instance lacks: `pull_models` for `iris models pull`,
`ensure_models` for start-up (honours ``models_auto_fetch``, never raises, says "offline" in
one line when the model host cannot be reached).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from iris.models.fetch import Downloaded, FetchError, Unreachable, download, host_of, reachable
from iris.models.fetch_install import (
    export_onnx,
    file_record,
    install_pack,
    place_file,
    record,
)
from iris.models.fetch_plan import Need, lock_path, models_dir, plan
from iris.models.fetch_progress import Progress, megabytes
from iris.models.manifest import Manifest, ManifestError, active_manifest
from iris.settings import Settings

Status = Literal["present", "fetched", "failed", "unpinned", "offline", "not fetched"]


@dataclass
class Item:
    """The outcome for one model (detector weights or the face pack)."""

    kind: str
    label: str
    target: Path
    status: Status
    detail: str = ""
    received: int = 0


@dataclass
class Report:
    """What `pull_models` / `ensure_models` did, model by model."""

    items: list[Item] = field(default_factory=list)
    offline: bool = False
    seconds: float = 0.0

    @property
    def failed(self) -> list[Item]:
        """Models that could not be installed (a bad hash, a refused archive, a failed export)."""
        return [i for i in self.items if i.status == "failed"]

    @property
    def fetched(self) -> list[Item]:
        """Models installed by this call."""
        return [i for i in self.items if i.status == "fetched"]

    @property
    def received(self) -> int:
        """Bytes downloaded by this call."""
        return sum(i.received for i in self.items)

    def consequence(self) -> str:
        """What running without the missing models means, in a few words."""
        missing = {i.kind for i in self.items if i.status not in ("present", "fetched")}
        words = []
        if "detector" in missing:
            words.append("using motion")
        if "faces" in missing:
            words.append("faces off")
        return ", ".join(words)

    def summary(self) -> str:
        """One line for the operator."""
        if self.offline:
            reason = next((i.detail for i in self.items if i.status == "offline"), "")
            return (f"offline: no models fetched, {self.consequence() or 'nothing missing'} "
                    f"({reason}; set models_base_url or run `iris models pull --mirror URL`)")
        if not self.fetched and not self.failed and all(
                i.status == "present" for i in self.items):
            return "models: all present"
        parts = []
        if self.fetched:
            parts.append("fetched " + ", ".join(i.label for i in self.fetched)
                         + f" ({megabytes(self.received)} in {self.seconds:.0f} s)")
        for item in self.items:
            if item.status in ("failed", "unpinned", "not fetched"):
                parts.append(f"{item.label}: {item.detail}")
        tail = self.consequence()
        return "models: " + "; ".join(parts) + (f" — {tail}" if tail else "")


def _install(need: Need, settings: Settings, base_url: str | None,
             progress: Progress) -> int:
    """Fetch and install one missing model; returns the bytes received."""
    entry, dest = need.entry, need.download
    assert entry is not None and dest is not None
    url = entry.url_from(base_url)
    got: Downloaded | None = None
    if not dest.is_file():
        got = download(url, dest, sha256=entry.sha256, size=entry.size, progress=progress)
    lock = lock_path(settings)
    if need.kind == "faces":
        hashes = install_pack(dest, entry, need.target)
        record(lock, f"faces:{need.label}", {"path": str(need.target), "from": entry.name,
                                            "from_sha256": entry.sha256, "members": hashes})
        dest.unlink(missing_ok=True)  # the members are verified and in place
    elif entry.install == "export-onnx" and need.target != dest:
        progress.note(f"models: exporting {dest.name} to ONNX ({need.target.name})")
        export_onnx(dest, need.target)
        record(lock, f"detector:{need.target.name}",
               file_record(need.target, entry, derived=True))
    else:
        place_file(dest, need.target)
        record(lock, f"detector:{need.target.name}",
               file_record(need.target, entry, derived=False))
    return got.received if got else 0


def pull_models(settings: Settings, *, progress: Progress, base_url: str | None = None,
                manifest: Manifest | None = None) -> Report:
    """Fetch every missing model from ``base_url`` (a mirror) or each file's upstream URL.

    Models already in place are left alone (nothing is downloaded for them). When the host
    cannot be reached the report says ``offline`` and nothing changes on disk.

    Raises:
        ManifestError: a manifest named by ``IRIS_MODELS_MANIFEST`` is unreadable.
    """
    started = time.monotonic()
    manifest = manifest or active_manifest()
    base_url = base_url if base_url is not None else settings.models_base_url
    report = Report()
    needs = plan(settings, manifest)
    todo = [n for n in needs if not n.present and n.entry is not None]
    unreachable = ""
    if todo:
        probe = todo[0].entry.url_from(base_url)  # type: ignore[union-attr]
        if not reachable(probe):
            host, port = host_of(probe)
            unreachable = f"cannot reach {host}:{port}"
    for need in needs:  # the report keeps the plan's order: detector, then faces
        report.items.append(_outcome(need, settings, base_url, progress, unreachable))
    report.offline = any(i.status == "offline" for i in report.items)
    report.seconds = time.monotonic() - started
    return report


def _outcome(need: Need, settings: Settings, base_url: str | None, progress: Progress,
             unreachable: str) -> Item:
    if need.present:
        return Item(need.kind, need.label, need.target, "present")
    if need.entry is None:
        return Item(need.kind, need.label, need.target, "unpinned",
                    f"no pinned file provides it; copy it to {need.target}")
    if unreachable:
        return Item(need.kind, need.label, need.target, "offline", unreachable)
    try:
        received = _install(need, settings, base_url, progress)
    except Unreachable as exc:
        return Item(need.kind, need.label, need.target, "offline", str(exc))
    except FetchError as exc:
        progress.note(f"models: {need.label}: {exc}")
        return Item(need.kind, need.label, need.target, "failed", str(exc))
    return Item(need.kind, need.label, need.target, "fetched", received=received)


def ensure_models(settings: Settings, *, progress: Progress) -> Report:
    """Start-up: fetch missing models unless ``models_auto_fetch`` is off; never raises.

    Prints one line of outcome through ``progress.note`` (offline is one line, found at once:
    the probe waits at most a few seconds). Iris starts whatever the outcome: without detector
    weights cameras record on motion, without the face pack face features are off.
    """
    if not settings.models_auto_fetch:
        manifest = _manifest_or_pinned(progress)
        missing = [n for n in plan(settings, manifest) if not n.present]
        report = Report([Item(n.kind, n.label, n.target, "not fetched",
                              "models_auto_fetch is off") for n in missing])
        if missing:
            progress.note(report.summary())
        return report
    try:
        report = pull_models(settings, progress=progress, manifest=_manifest_or_pinned(progress))
    except Exception as exc:  # noqa: BLE001 - start-up goes on without models, and says why
        report = Report([Item("models", "models", models_dir(settings), "failed",
                              f"{type(exc).__name__}: {exc}")])
    if report.offline or report.fetched or report.failed or any(
            i.status == "unpinned" for i in report.items):
        progress.note(report.summary())
    return report


def _manifest_or_pinned(progress: Progress) -> Manifest:
    try:
        return active_manifest()
    except ManifestError as exc:
        progress.note(f"models: {exc}; using the pinned list")
        from iris.models.manifest import PINNED

        return PINNED
