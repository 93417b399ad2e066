"""Validation of uploaded photos: type, size and resolution are refused before any decoding.

Each check costs less than the next, and a refusal never needs more memory than the limit before
it. `photo_upload` parses the multipart body itself, so a body whose Content-Length is over the
cap is refused before the app reads a byte of it, and one without a length stops being parsed at
the cap (413): FastAPI's own `File()` parameter would parse the whole body first, whatever its
size (measured: +42 MiB USS in the ingress replica for a 64 MiB upload, +11 MiB with the cap,
which is Serve relaying the unread body to the replica). Then the part's content type
is checked (415); the file is read in chunks and reading stops at `MAX_UPLOAD_BYTES` + 1 (413;
empty → 400); the resolution comes from the image header, which PIL reads without touching the
pixel data (413 above `MAX_PIXELS`, so a small PNG that declares a huge canvas never allocates
it); only then are the pixels decoded (400 when they are undecodable or truncated).

A decode of a 50 MP photo needs hundreds of MB, so uploads are decoded a few at a time
(`upload_decode_concurrency`): `photo_upload` holds one of the ingress's `DecodeSlots` from the
moment the body is parsed until the route is done with the upload, and later uploads wait on the
event loop (not in a thread: a waiting upload must not take a worker thread from other routes).
"""

from __future__ import annotations

import asyncio
import warnings
from collections.abc import AsyncGenerator, AsyncIterator
from contextlib import aclosing, asynccontextmanager
from io import BytesIO

import cv2
import numpy as np
from fastapi import HTTPException, Request, status
from PIL import Image, ImageOps, UnidentifiedImageError
from starlette.datastructures import UploadFile
from starlette.formparsers import MultiPartException, MultiPartParser

from iris.settings import Settings

MAX_UPLOAD_BYTES = 8 * 1024 * 1024
MAX_PIXELS = 50_000_000
READ_CHUNK = 256 * 1024
MULTIPART_SLACK = 64 * 1024
"""Room for the boundaries and part headers around the file in a multipart body."""
FILE_FIELD = "file"
ALLOWED_CONTENT_TYPES = frozenset(
    {"image/jpeg", "image/jpg", "image/pjpeg", "image/png", "image/webp"}
)
IMAGE_FORMATS = ("JPEG", "PNG", "WEBP")
"""What PIL may open: the formats the content types name, nothing it would guess beyond them."""

_UNDECODABLE = "The upload could not be decoded as a JPEG, PNG or WebP image."


def _too_large(limit: int = MAX_UPLOAD_BYTES) -> HTTPException:
    return HTTPException(status.HTTP_413_CONTENT_TOO_LARGE,
                         f"The upload is larger than {limit // (1024 * 1024)} MiB.")


async def _capped_body(request: Request, limit: int) -> AsyncGenerator[bytes, None]:
    received = 0
    async for chunk in request.stream():
        received += len(chunk)
        if received > limit:
            raise _too_large()
        yield chunk


DEFAULT_DECODE_CONCURRENCY: int = Settings.model_fields["upload_decode_concurrency"].default


class DecodeSlots:
    """At most `limit` uploads decoded at once in this process; the others wait their turn."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.active = 0
        self.waiting = 0
        self._semaphore = asyncio.Semaphore(limit)

    @asynccontextmanager
    async def hold(self) -> AsyncIterator[None]:
        self.waiting += 1
        try:
            await self._semaphore.acquire()
        finally:
            self.waiting -= 1
        self.active += 1
        try:
            yield
        finally:
            self.active -= 1
            self._semaphore.release()


def decode_slots(request: Request) -> DecodeSlots:
    """The app's decode slots, sized by its settings (`upload_decode_concurrency`)."""
    slots = getattr(request.app.state, "upload_decode_slots", None)
    if slots is None:
        settings = getattr(request.app.state, "settings", None)
        limit = settings.upload_decode_concurrency if settings else DEFAULT_DECODE_CONCURRENCY
        slots = request.app.state.upload_decode_slots = DecodeSlots(limit)
    return slots  # type: ignore[no-any-return]


async def photo_upload(request: Request) -> AsyncIterator[UploadFile]:
    """Dependency: the multipart `file` part, the body capped before it is read (see above).

    The route runs holding a decode slot: it decodes the upload while no more than
    `upload_decode_concurrency` others do.
    """
    limit = MAX_UPLOAD_BYTES + MULTIPART_SLACK
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        raise _too_large()
    media_type = request.headers.get("content-type", "").split(";", 1)[0].strip().lower()
    if media_type != "multipart/form-data":
        raise HTTPException(status.HTTP_415_UNSUPPORTED_MEDIA_TYPE,
                            f"Send the photo as multipart/form-data with a {FILE_FIELD!r} field.")
    try:
        async with aclosing(_capped_body(request, limit)) as body:
            form = await MultiPartParser(request.headers, body, max_files=1,
                                         max_fields=16).parse()
    except MultiPartException as exc:
        raise HTTPException(status.HTTP_400_BAD_REQUEST, exc.message) from exc
    try:
        upload = form.get(FILE_FIELD)
        if not isinstance(upload, UploadFile):
            raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT,
                                f"The form has no {FILE_FIELD!r} file.")
        async with decode_slots(request).hold():
            yield upload
    finally:
        await form.close()


PHOTO_UPLOAD_OPENAPI = {
    "requestBody": {
        "required": True,
        "content": {"multipart/form-data": {"schema": {
            "type": "object", "required": [FILE_FIELD],
            "properties": {FILE_FIELD: {"type": "string", "format": "binary",
                                        "description": "A JPEG, PNG or WebP photo, up to 8 MiB"}},
        }}},
    }
}
"""The request body `photo_upload` parses, for the OpenAPI schema of routes that use it."""


def check_content_type(content_type: str | None) -> None:
    """Raise 415 unless the part's declared type is JPEG, PNG or WebP."""
    media_type = (content_type or "").split(";", 1)[0].strip().lower()
    if media_type not in ALLOWED_CONTENT_TYPES:
        raise HTTPException(
            status.HTTP_415_UNSUPPORTED_MEDIA_TYPE,
            f"Unsupported content type {media_type or '(none)'!r}: upload a JPEG, PNG or WebP "
            "image.",
        )


async def read_capped(upload: UploadFile, limit: int = MAX_UPLOAD_BYTES) -> bytes:
    """The upload's bytes, read in chunks; 413 as soon as more than `limit` arrive, 400 if none."""
    if upload.size is not None and upload.size > limit:
        raise _too_large(limit)
    data = bytearray()
    while len(data) <= limit:
        chunk = await upload.read(min(READ_CHUNK, limit + 1 - len(data)))
        if not chunk:
            break
        data += chunk
    if len(data) > limit:
        raise _too_large(limit)
    if not data:
        raise HTTPException(status.HTTP_400_BAD_REQUEST, "The upload is empty.")
    return bytes(data)


def _open(data: bytes) -> Image.Image:
    """Parse the header only (PIL defers pixel decoding to `load`); 400 when unrecognised."""
    try:
        with warnings.catch_warnings():
            # Our own, lower limit applies; PIL's warning would only add noise to the logs.
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            return Image.open(BytesIO(data), formats=IMAGE_FORMATS)
    except Image.DecompressionBombError as exc:
        raise _too_many_pixels() from exc
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, ImportError) as exc:
        # ImportError: ultralytics, once imported, wraps Image.open to try an optional HEIF
        # plugin on unknown bytes; whatever the wrapper raises, unknown bytes are a 400.
        raise HTTPException(status.HTTP_400_BAD_REQUEST, _UNDECODABLE) from exc


def _too_many_pixels(size: tuple[int, int] | None = None) -> HTTPException:
    declared = f" ({size[0]}x{size[1]})" if size else ""
    return HTTPException(
        status.HTTP_413_CONTENT_TOO_LARGE,
        f"The image resolution{declared} is above the {MAX_PIXELS // 1_000_000} megapixel limit.",
    )


def _check_pixels(size: tuple[int, int]) -> None:
    width, height = size
    if width * height > MAX_PIXELS:
        raise _too_many_pixels((width, height))
    if width <= 0 or height <= 0:
        raise HTTPException(status.HTTP_400_BAD_REQUEST, _UNDECODABLE)


def image_size(data: bytes) -> tuple[int, int]:
    """``(width, height)`` from the image header, without decoding; 413 above `MAX_PIXELS`."""
    with _open(data) as img:
        size: tuple[int, int] = img.size
    _check_pixels(size)
    return size


def decode_image(data: bytes, max_side: int) -> np.ndarray:
    """Check the header, then decode to an upright BGR uint8 array no larger than `max_side`.

    Raises:
        HTTPException: 413 above `MAX_PIXELS` (before decoding), 400 undecodable or truncated.
    """
    img = _open(data)
    try:
        _check_pixels(img.size)  # from the header: nothing is decoded yet
        # JPEG can decode at 1/2, 1/4 or 1/8 scale straight from the DCT: a 40 MP photo never
        # needs its full-size buffer when the recognizer only sees `max_side`.
        img.draft("RGB", (max_side, max_side))
        img.load()
        # Copies only where needed: this runs on the ingress, whose memory all routes share.
        ImageOps.exif_transpose(img, in_place=True)
        rgb = img if img.mode == "RGB" else img.convert("RGB")
        rgb.thumbnail((max_side, max_side), Image.Resampling.LANCZOS)
        pixels = np.array(rgb)  # a writable copy, reused as the BGR result
        return cv2.cvtColor(pixels, cv2.COLOR_RGB2BGR, dst=pixels)
    except (OSError, SyntaxError, ValueError) as exc:  # "image file is truncated", bad data
        raise HTTPException(status.HTTP_400_BAD_REQUEST, _UNDECODABLE) from exc
    finally:
        img.close()


async def read_image_upload(upload: UploadFile) -> bytes:
    """The validated bytes of an uploaded photo (type, size and resolution checked)."""
    check_content_type(upload.content_type)
    data = await read_capped(upload)
    image_size(data)
    return data
