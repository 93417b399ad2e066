"""Downloading one pinned file: resumable (HTTP Range into ``<name>.part``), SHA-256 verified,
then renamed into place, so a file under its final name is always a verified one.
"""

from __future__ import annotations

import hashlib
import os
import socket
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

import httpx

from iris.models.fetch_progress import Progress

CHUNK = 1 << 20
CONNECT_TIMEOUT_S = 3.0
READ_TIMEOUT_S = 60.0
PROBE_TIMEOUT_S = 3.0
PART_SUFFIX = ".part"


class FetchError(RuntimeError):
    """A download that did not produce a verified file; the message says what to do."""


class Unreachable(FetchError):
    """The host serving the models cannot be reached (offline, or the mirror is down)."""


class ChecksumMismatch(FetchError):
    """The bytes received are not the pinned file; nothing was kept."""


@dataclass(frozen=True)
class Downloaded:
    """What a download did: the verified file, and how many bytes came over the wire."""

    path: Path
    received: int
    resumed_from: int


def host_of(url: str) -> tuple[str, int]:
    """The ``(host, port)`` a URL connects to."""
    parts = urlsplit(url)
    port = parts.port or (443 if parts.scheme == "https" else 80)
    return parts.hostname or "", port


def reachable(url: str, timeout: float = PROBE_TIMEOUT_S) -> bool:
    """Whether a TCP connection to the URL's host opens within ``timeout`` (no request sent)."""
    host, port = host_of(url)
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False


def sha256_of(path: Path, on_chunk: Callable[[int], None] | None = None) -> str:
    """SHA-256 of a file, read in 1 MiB chunks."""
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(CHUNK):
            digest.update(chunk)
            if on_chunk:
                on_chunk(len(chunk))
    return digest.hexdigest()


def part_path(dest: Path) -> Path:
    """Where an unfinished download of ``dest`` is kept (beside it: the rename stays atomic)."""
    return dest.with_name(dest.name + PART_SUFFIX)


def download(
    url: str,
    dest: Path,
    *,
    sha256: str,
    size: int | None,
    progress: Progress,
    attempts: int = 3,
) -> Downloaded:
    """Fetch ``url`` into ``dest``, resuming a ``.part`` left by an earlier try.

    A dropped connection is resumed from where it stopped (up to ``attempts`` tries); a resumed
    file whose hash is wrong is fetched once more from the start, since the old part may have
    been the bad one.

    Raises:
        Unreachable: the host cannot be reached.
        ChecksumMismatch: the complete file is not the pinned one (the part is deleted).
        FetchError: the server refused, or the transfer kept failing (the part is kept).
    """
    dest.parent.mkdir(parents=True, exist_ok=True)
    part = part_path(dest)
    received = 0
    started_at = part.stat().st_size if part.exists() else 0
    restarted = False
    last_error = ""
    for _ in range(attempts + 1):
        have = part.stat().st_size if part.exists() else 0
        try:
            received += _transfer(url, part, have=have, size=size, progress=progress,
                                  name=dest.name)
        except _Interrupted as exc:
            received += exc.received
            last_error = str(exc)
            continue
        digest = sha256_of(part)
        if digest == sha256:
            os.replace(part, dest)
            _fsync_dir(dest.parent)
            return Downloaded(dest, received, started_at)
        part.unlink(missing_ok=True)
        if have and not restarted:  # the old part may have been the bad one: once from zero
            restarted = True
            continue
        raise ChecksumMismatch(
            f"{dest.name} from {url} is not the pinned file: its SHA-256 is {digest}, "
            f"expected {sha256}. Refused and deleted; nothing was installed. If this is a "
            "mirror, it serves a different or damaged file.")
    raise FetchError(f"{dest.name}: the transfer from {url} kept failing ({last_error}); "
                     f"{part.stat().st_size if part.exists() else 0} bytes are kept in {part}, "
                     "run the command again to resume")


class _Interrupted(Exception):
    def __init__(self, message: str, received: int) -> None:
        super().__init__(message)
        self.received = received


def _transfer(url: str, part: Path, *, have: int, size: int | None, progress: Progress,
              name: str) -> int:
    """One GET appending to ``part``; returns the bytes received."""
    if size is not None and have >= size:
        if have == size:
            return 0  # complete from an earlier run: only the hash check is left
        part.unlink()
        have = 0
    # Identity encoding: Range offsets count the bytes on disk, not a compressed stream.
    headers = {"Accept-Encoding": "identity", **({"Range": f"bytes={have}-"} if have else {})}
    timeout = httpx.Timeout(READ_TIMEOUT_S, connect=CONNECT_TIMEOUT_S)
    received = 0
    try:
        with httpx.Client(follow_redirects=True, timeout=timeout) as client, \
                client.stream("GET", url, headers=headers) as response:
            if have and response.status_code == 416:
                return 0  # the part already holds the whole file
            if response.status_code == 200:
                have = 0  # the server ignored the range: start over
            elif response.status_code == 206 and _range_start(response) == have:
                pass
            elif response.status_code == 206:
                raise FetchError(f"{url} answered a range we did not ask for "
                                 f"({response.headers.get('content-range')})")
            else:
                raise FetchError(f"{url} answered HTTP {response.status_code}; "
                                 "check the mirror URL (models_base_url / --mirror)")
            total = _total_size(response, have) or size
            if size is not None and total is not None and total != size:
                raise ChecksumMismatch(
                    f"{name} from {url} is {total} bytes, the pinned file is {size}: refused, "
                    "nothing was installed")
            progress.begin(name, total, have)
            mode = "ab" if have else "wb"
            with part.open(mode) as out:
                for chunk in response.iter_raw():  # as it arrives: a drop keeps what came
                    if size is not None and have + received + len(chunk) > size:
                        raise ChecksumMismatch(
                            f"{name} from {url} is longer than the pinned {size} bytes: "
                            "refused, nothing was installed")
                    out.write(chunk)
                    received += len(chunk)
                    progress.advance(len(chunk))
                out.flush()
                os.fsync(out.fileno())
            progress.end()
    except ChecksumMismatch:
        part.unlink(missing_ok=True)
        progress.end()
        raise
    except httpx.ConnectError as exc:
        progress.end()
        raise Unreachable(f"cannot reach {host_of(url)[0]} ({exc})") from None
    except (httpx.TransportError, OSError) as exc:
        progress.end()
        raise _Interrupted(f"{type(exc).__name__}: {exc}", received) from None
    if size is not None and have + received < size:
        raise _Interrupted(f"connection closed after {have + received} of {size} bytes",
                           received)
    return received


def _range_start(response: httpx.Response) -> int | None:
    value = response.headers.get("content-range", "")  # "bytes 100-199/200"
    try:
        return int(value.split()[1].split("-")[0])
    except (IndexError, ValueError):
        return None


def _total_size(response: httpx.Response, have: int) -> int | None:
    if response.status_code == 206:
        total = response.headers.get("content-range", "").rpartition("/")[2]
        return int(total) if total.isdigit() else None
    length = response.headers.get("content-length", "")
    return int(length) if length.isdigit() else None


def _fsync_dir(folder: Path) -> None:
    """Make a rename durable: fsync the folder that holds it."""
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
