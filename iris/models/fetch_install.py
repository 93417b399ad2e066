"""Turning a verified download into weights Iris loads: place it, export ONNX from a ``.pt``,
or extract a face pack (each member verified), always into a staging name first and renamed
into place only when complete. What was installed is recorded in ``models.lock.json``.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path, PurePosixPath
from typing import Any

from iris.models.fetch import CHUNK, FetchError, sha256_of
from iris.models.manifest import Member, ModelFile

EXPORT_TIMEOUT_S = 900
MAX_UNPINNED_MEMBER_BYTES = 2 << 30


def export_onnx(pt: Path, out: Path) -> None:
    """Export ONNX from a verified ``.pt`` in a child process (torch stays out of ``iris up``).

    Raises:
        FetchError: the export failed; its last lines are in the message.
    """
    try:
        result = subprocess.run(
            [sys.executable, "-m", "iris.models.fetch_export", str(pt), str(out)],
            capture_output=True, text=True, timeout=EXPORT_TIMEOUT_S)
    except subprocess.TimeoutExpired:
        raise FetchError(f"exporting {pt.name} to ONNX took over {EXPORT_TIMEOUT_S} s") from None
    if result.returncode != 0 or not out.is_file():
        tail = (result.stderr or result.stdout).strip().splitlines()[-5:]
        raise FetchError(f"exporting {pt.name} to ONNX failed: " + " | ".join(tail))


def _member_name(filename: str, pack: str) -> str | None:
    """The flat file name of an archive member, or ``None`` for one in another folder.

    Raises:
        FetchError: an absolute path or ``..`` (an archive that would write outside the pack).
    """
    path = PurePosixPath(filename.replace("\\", "/"))
    if path.is_absolute() or ".." in path.parts:
        raise FetchError(f"the archive holds an unsafe path {filename!r}: refused")
    parts = path.parts[1:] if path.parts[:1] == (pack,) else path.parts
    return parts[0] if len(parts) == 1 else None


def _extract(archive: zipfile.ZipFile, info: zipfile.ZipInfo, dest: Path,
             pin: Member | None) -> str:
    limit = pin.size if pin and pin.size is not None else MAX_UNPINNED_MEMBER_BYTES
    digest, written = hashlib.sha256(), 0
    with archive.open(info) as src, dest.open("wb") as out:
        while chunk := src.read(CHUNK):
            written += len(chunk)
            if written > limit:
                raise FetchError(f"{dest.name} in the archive is larger than {limit} bytes: "
                                 "refused")
            digest.update(chunk)
            out.write(chunk)
        out.flush()
        os.fsync(out.fileno())
    sha = digest.hexdigest()
    if pin is not None and sha != pin.sha256:
        raise FetchError(f"{dest.name} in the archive is not the pinned file (SHA-256 {sha}, "
                         f"expected {pin.sha256}): refused, the pack was not installed")
    return sha


def install_pack(archive_path: Path, entry: ModelFile, folder: Path) -> dict[str, str]:
    """Extract a verified pack archive into ``folder``; returns member name → SHA-256.

    Only the members the entry lists are extracted (every ``.onnx`` when it lists none), each
    checked against its pin while it is written. The pack appears under its name only once
    complete; an incomplete folder that was there is replaced.

    Raises:
        FetchError: a listed member is missing or wrong, or the archive is unsafe or unreadable.
    """
    pack = entry.pack or folder.name
    staging = folder.with_name(f".{folder.name}.partial")
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir(parents=True)
    try:
        with zipfile.ZipFile(archive_path) as archive:
            infos: dict[str, zipfile.ZipInfo] = {}
            for info in archive.infolist():
                name = None if info.is_dir() else _member_name(info.filename, pack)
                if name is not None:
                    infos[name] = info
            wanted: dict[str, Member | None] = (
                dict(entry.members) if entry.members
                else {n: None for n in infos if n.endswith(".onnx")})
            missing = sorted(set(wanted) - set(infos))
            if missing or not wanted:
                raise FetchError(f"{archive_path.name} lacks {', '.join(missing) or 'models'}: "
                                 "not the expected pack")
            hashes = {name: _extract(archive, infos[name], staging / name, pin)
                      for name, pin in wanted.items()}
    except zipfile.BadZipFile as exc:
        shutil.rmtree(staging, ignore_errors=True)
        raise FetchError(f"{archive_path.name} is not a readable zip ({exc})") from None
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    old = folder.with_name(f".{folder.name}.old")
    if folder.exists():
        shutil.rmtree(old, ignore_errors=True)
        folder.rename(old)
    staging.rename(folder)
    shutil.rmtree(old, ignore_errors=True)
    return hashes


def place_file(download: Path, target: Path) -> None:
    """Put a verified download at ``target`` (a copy then a rename when they differ)."""
    if download.resolve() == target.resolve():
        return
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = target.with_name(target.name + ".partial")
    shutil.copyfile(download, staging)
    os.replace(staging, target)


def read_lock(path: Path) -> dict[str, Any]:
    """The install record (empty when there is none or it is unreadable)."""
    try:
        data = json.loads(path.read_text())
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def record(lock: Path, key: str, value: dict[str, Any]) -> None:
    """Add one installed model to the lock file (written atomically)."""
    data = read_lock(lock)
    data.setdefault("installed", {})[key] = value
    lock.parent.mkdir(parents=True, exist_ok=True)
    staging = lock.with_name(lock.name + ".partial")
    staging.write_text(json.dumps(data, indent=2, sort_keys=True) + "\n")
    os.replace(staging, lock)


def file_record(path: Path, entry: ModelFile, *, derived: bool) -> dict[str, Any]:
    """The lock entry of a detector file: its hash, and what it was made from."""
    value: dict[str, Any] = {"path": str(path), "sha256": sha256_of(path) if derived
                             else entry.sha256, "from": entry.name,
                             "from_sha256": entry.sha256}
    if derived:
        value["made_by"] = _exporter_versions()
    return value


def _exporter_versions() -> str:
    from importlib.metadata import PackageNotFoundError, version

    found = []
    for package in ("ultralytics", "torch", "onnx"):
        try:
            found.append(f"{package} {version(package)}")
        except PackageNotFoundError:
            continue
    return ", ".join(found)
