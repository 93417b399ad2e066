"""File responses with HTTP Range (RFC 9110 §14), streamed from disk in 1 MiB chunks.

Used for event clips and thumbnails and reusable for any media under the data root: the caller
checks containment (`iris.media.contained`), this module only reads the file it is given.

Rules (RFC 9110 §14.1–14.4):

- `Accept-Ranges: bytes` on every file response.
- One satisfiable range (`bytes=a-b`, `bytes=a-`, suffix `bytes=-N`) → 206 + `Content-Range`;
  `last-pos` past the end is clamped, a suffix longer than the file selects the whole file.
- A range whose first byte lies at or past the end, or a zero-length suffix → 416 with
  `Content-Range: bytes */<size>`.
- A header we do not honour (malformed, another unit, several ranges, `last-pos < first-pos`)
  is ignored: 200 with the whole file, as §14.2 allows. Nothing here answers 500.
- `If-Range` that does not match the file's strong ETag or exact Last-Modified → 200 full.
- A media element (`Sec-Fetch-Dest: video|audio`) gets at most MEDIA_WINDOW bytes per 206, as
  §15.3.7 allows ("a server might want to send only a subset of the data requested"); players
  ask for the next window when they need it.

Why the window: Ray Serve relays a streamed body from the replica to the proxy without
backpressure (`send` never blocks), so the replica reads as fast as the disk allows and the
bytes wait in the object store until the client takes them. A `<video>` reads at playback
speed: without a window a 1 GiB clip would sit in memory within seconds of pressing play. A
client-driven window is the only backpressure the app controls. Downloads (no media element)
keep full RFC semantics and are read ahead at disk speed.
"""

from __future__ import annotations

import asyncio
import mimetypes
import os
import re
import stat
from collections.abc import AsyncIterator, Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from email.utils import formatdate
from pathlib import Path
from typing import BinaryIO
from urllib.parse import quote

from fastapi import HTTPException, status
from starlette.responses import JSONResponse, Response, StreamingResponse

from iris.media import PathEscapesRoot, contained

CHUNK_SIZE = 1 << 20
MEDIA_WINDOW = 4 << 20
MEDIA_DESTINATIONS = frozenset({"video", "audio"})
READER_THREADS = 2

# File reads get their own few threads: a slow disk (NFS in a cluster) never starves the pool
# that sync routes run on, and 1 MiB buffers come from a few malloc arenas instead of one per
# pool thread (glibc keeps their freed memory: measured ~100 MiB more replica RSS without).
_readers = ThreadPoolExecutor(max_workers=READER_THREADS, thread_name_prefix="iris-file-read")
_RANGE_SPEC = re.compile(r"(\d*)-(\d*)", re.ASCII)


@dataclass(frozen=True)
class ByteRange:
    """An inclusive byte range `[start, end]` of a file of `size` bytes."""

    start: int
    end: int
    size: int

    @property
    def length(self) -> int:
        return self.end - self.start + 1

    @property
    def content_range(self) -> str:
        return f"bytes {self.start}-{self.end}/{self.size}"

    def limit(self, length: int) -> ByteRange:
        """The first `length` bytes of this range (itself when shorter)."""
        return ByteRange(self.start, min(self.end, self.start + length - 1), self.size)


class RangeNotSatisfiable(ValueError):
    """A well-formed single range that selects no byte of the file (→ 416)."""

    def __init__(self, size: int) -> None:
        super().__init__(f"range not satisfiable for {size} bytes")
        self.size = size


def parse_range(header: str | None, size: int) -> ByteRange | None:
    """The one range a `Range` header asks for, or None to serve the whole file.

    Raises:
        RangeNotSatisfiable: the header is a single well-formed byte range outside the file.
    """
    if not header:
        return None
    unit, sep, range_set = header.partition("=")
    if not sep or unit.strip().lower() != "bytes":
        return None
    # `1#range-spec` list syntax: empty elements and whitespace around commas are allowed.
    specs = [spec.strip() for spec in range_set.split(",") if spec.strip()]
    if len(specs) != 1:
        return None  # none, or several: multipart/byteranges is not worth it for media
    match = _RANGE_SPEC.fullmatch(specs[0])
    if match is None:
        return None
    first, last = match.groups()
    if not first and not last:
        return None
    if not first:  # suffix-range: the last N bytes
        suffix = int(last)
        if suffix == 0:
            raise RangeNotSatisfiable(size)
        if size == 0:
            return None  # "the entire representation is used": an empty 200, not a 206
        return ByteRange(max(0, size - suffix), size - 1, size)
    start = int(first)
    if last and int(last) < start:
        return None  # an invalid byte-range-spec: ignore the header
    if start >= size:
        raise RangeNotSatisfiable(size)
    end = min(int(last), size - 1) if last else size - 1
    return ByteRange(start, end, size)


def etag_of(st: os.stat_result) -> str:
    """A strong validator from inode, size and mtime (clips are written once, then renamed)."""
    return f'"{st.st_ino:x}-{st.st_size:x}-{st.st_mtime_ns:x}"'


def _if_range_matches(if_range: str, etag: str, last_modified: str) -> bool:
    if_range = if_range.strip()
    if if_range.startswith(('"', "W/")):
        return if_range == etag  # weak validators never match (§13.1.5)
    return if_range == last_modified


def file_response(
    path: Path,
    request_headers: Mapping[str, str],
    *,
    media_type: str | None = None,
    chunk_size: int = CHUNK_SIZE,
    media_window: int = MEDIA_WINDOW,
) -> Response:
    """Serve `path` honouring `Range`/`If-Range`; 200, 206 or 416.

    A media element's range is cut to `media_window` bytes (0: never cut).

    Raises:
        FileNotFoundError: `path` is missing or is not a regular file.
        PermissionError: the file cannot be opened.
    """
    handle = _open_regular(path)
    try:
        st = os.fstat(handle.fileno())
        size = st.st_size
        etag = etag_of(st)
        last_modified = formatdate(st.st_mtime, usegmt=True)
        headers = {"Accept-Ranges": "bytes", "ETag": etag, "Last-Modified": last_modified}
        media_type = media_type or mimetypes.guess_type(path.name)[0] or "application/octet-stream"

        header = request_headers.get("range")
        if_range = request_headers.get("if-range")
        if if_range is not None and not _if_range_matches(if_range, etag, last_modified):
            header = None
        try:
            byte_range = parse_range(header, size)
        except RangeNotSatisfiable:
            handle.close()
            return JSONResponse(
                {"detail": f"Requested range not satisfiable (file is {size} bytes)."},
                status_code=416,
                headers={**headers, "Content-Range": f"bytes */{size}"},
            )
    except BaseException:
        handle.close()
        raise

    if byte_range is None:
        start, length, status_code = 0, size, 200
    else:
        if media_window > 0 and _from_media_element(request_headers):
            byte_range = byte_range.limit(media_window)
        start, length, status_code = byte_range.start, byte_range.length, 206
        headers["Content-Range"] = byte_range.content_range
    headers["Content-Length"] = str(length)
    return StreamingResponse(
        _read_chunks(handle, start, length, chunk_size),
        status_code=status_code,
        headers=headers,
        media_type=media_type,
    )


def serve_stored(request_headers: Mapping[str, str], root: Path, stored: str, subject: str,
                 media_type: str, *, accel: bool = False) -> Response:
    """Serve a file the DB stores relative to the data root: 400 if it escapes, 404 if gone.

    `subject` names it in the errors ("The event's clip"); `accel` lets nginx serve it.
    """
    try:
        path = contained(root, stored)
    except PathEscapesRoot as exc:
        raise HTTPException(status.HTTP_400_BAD_REQUEST,
                            f"{subject} path escapes the data root.") from exc
    try:
        if accel and (redirect := accel_redirect(request_headers, root, path, media_type)):
            return redirect
        return file_response(path, request_headers, media_type=media_type)
    except FileNotFoundError as exc:
        raise HTTPException(status.HTTP_404_NOT_FOUND,
                            f"{subject} file is missing on disk.") from exc


ACCEL_HEADER = "x-iris-accel-root"


def accel_redirect(request_headers: Mapping[str, str], root: Path, path: Path,
                   media_type: str) -> Response | None:
    """Hand the file to nginx (`X-Accel-Redirect`) when the gateway offers it, else None.

    nginx sets `X-Iris-Accel-Root: /_iris_media/` (an `internal` location aliased to the data
    root, configs/nginx/iris.conf) and then serves the file itself with sendfile and Range:
    flat memory however large the clip, which Serve's proxy cannot promise for a full 200.
    """
    prefix = (request_headers.get(ACCEL_HEADER) or "").strip()
    if not prefix.startswith("/") or not prefix.endswith("/"):
        return None
    if not path.is_file():
        raise FileNotFoundError(str(path))
    relative = path.resolve().relative_to(root.resolve()).as_posix()
    return Response(status_code=200, media_type=media_type,
                    headers={"X-Accel-Redirect": prefix + quote(relative),
                             "Accept-Ranges": "bytes"})


def _from_media_element(headers: Mapping[str, str]) -> bool:
    return (headers.get("sec-fetch-dest") or "").strip().lower() in MEDIA_DESTINATIONS


def _open_regular(path: Path) -> BinaryIO:
    try:
        handle = open(path, "rb")  # closed by the stream, or below on error
    except IsADirectoryError as exc:
        raise FileNotFoundError(str(path)) from exc
    if not stat.S_ISREG(os.fstat(handle.fileno()).st_mode):
        handle.close()
        raise FileNotFoundError(str(path))
    return handle


async def _read_chunks(
    handle: BinaryIO, start: int, length: int, chunk_size: int
) -> AsyncIterator[bytes]:
    """Yield `length` bytes from `start`, one chunk in memory at a time; closes the file.

    Reads run on the reader threads so a slow disk never blocks the replica's event loop; a
    client that goes away cancels the stream and the `finally` closes the file.
    """
    fd = handle.fileno()
    offset, end = start, start + length
    read: Future[bytes] | None = None
    try:
        while offset < end:
            read = _readers.submit(os.pread, fd, min(chunk_size, end - offset), offset)
            chunk = await asyncio.wrap_future(read)
            if not chunk:
                break  # the file shrank under us; the short body tells the client
            offset += len(chunk)
            yield chunk
    finally:
        if read is not None and not read.done():
            # Cancelled mid-read: the thread still uses the fd, close it once the read returns.
            read.add_done_callback(lambda _: handle.close())
        else:
            handle.close()
