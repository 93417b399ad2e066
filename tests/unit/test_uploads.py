"""Upload validation: content type, capped reads, header-only resolution check, decoding."""

from __future__ import annotations

import asyncio
import struct
import zlib
from collections.abc import Coroutine
from io import BytesIO
from typing import Annotated, Any

import cv2
import numpy as np
import pytest
from fastapi import Depends, FastAPI, HTTPException, UploadFile
from fastapi.testclient import TestClient
from PIL import Image, ImageFile
from starlette.datastructures import Headers
from starlette.datastructures import UploadFile as StarletteUpload

from iris.serve.uploads import (
    MAX_PIXELS,
    MAX_UPLOAD_BYTES,
    MULTIPART_SLACK,
    READ_CHUNK,
    check_content_type,
    decode_image,
    image_size,
    photo_upload,
    read_capped,
    read_image_upload,
)
from tests.support.api import api_client


def png_declaring(width: int, height: int, rows: int | None = None) -> bytes:
    """An 8-bit greyscale PNG of zero pixels: tiny on disk, `width*height` decoded.

    With `rows`, only that many rows of pixel data follow the header (a truncated file).
    """
    def chunk(kind: bytes, payload: bytes) -> bytes:
        body = kind + payload
        return struct.pack(">I", len(payload)) + body + struct.pack(">I", zlib.crc32(body))

    packer = zlib.compressobj(9)
    row = bytes(width + 1)  # filter byte + pixels
    count = height if rows is None else rows
    idat = b"".join(packer.compress(row) for _ in range(count)) + packer.flush()
    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", idat)
            + chunk(b"IEND", b""))


def encoded(fmt: str, width: int = 64, height: int = 48, **params: object) -> bytes:
    img = Image.new("RGB", (width, height), (255, 0, 0))  # pure red
    out = BytesIO()
    img.save(out, fmt, **params)
    return out.getvalue()


def noisy_jpeg(width: int = 640, height: int = 480) -> bytes:
    pixels = np.random.default_rng(0).integers(0, 255, (height, width, 3), dtype=np.uint8)
    return cv2.imencode(".jpg", pixels, [cv2.IMWRITE_JPEG_QUALITY, 90])[1].tobytes()


def upload(data: bytes, content_type: str | None = "image/jpeg",
           size: int | None = None) -> UploadFile:
    headers = Headers({"content-type": content_type} if content_type else {})
    return UploadFile(BytesIO(data), size=size, headers=headers)


def status_of(call: Coroutine[Any, Any, object]) -> int:
    with pytest.raises(HTTPException) as err:
        asyncio.run(call)
    return err.value.status_code


class EndlessStream:
    """A body that never ends, counting what was read from it."""

    def __init__(self) -> None:
        self.read_bytes = 0

    def read(self, size: int = -1) -> bytes:
        assert size > 0, "an unbounded read would take the whole body into memory"
        self.read_bytes += size
        return b"\xff" * size


# ----------------------------------------------------------------------------- content type
@pytest.mark.parametrize("content_type", ["image/jpeg", "image/png", "image/webp",
                                          "IMAGE/JPEG", "image/jpeg; charset=binary"])
def test_image_content_types_pass(content_type: str) -> None:
    check_content_type(content_type)


@pytest.mark.parametrize("content_type", [None, "", "text/plain", "image/gif", "image/svg+xml",
                                          "application/octet-stream", "image/heic",
                                          "application/pdf", "image/jpeg2000"])
def test_other_content_types_are_415(content_type: str | None) -> None:
    with pytest.raises(HTTPException) as err:
        check_content_type(content_type)
    assert err.value.status_code == 415
    assert "JPEG, PNG or WebP" in err.value.detail


# ----------------------------------------------------------------------------- size
def test_read_stops_one_byte_past_the_limit() -> None:
    stream = EndlessStream()
    with pytest.raises(HTTPException) as err:
        asyncio.run(read_capped(UploadFile(stream), limit=1000))  # type: ignore[arg-type]
    assert err.value.status_code == 413
    assert stream.read_bytes == 1001


def test_declared_size_over_the_limit_is_413_without_reading() -> None:
    stream = EndlessStream()
    with pytest.raises(HTTPException) as err:
        asyncio.run(read_capped(UploadFile(stream, size=MAX_UPLOAD_BYTES + 1)))  # type: ignore[arg-type]
    assert err.value.status_code == 413 and "8 MiB" in err.value.detail
    assert stream.read_bytes == 0


@pytest.mark.parametrize(("size", "expected"), [(MAX_UPLOAD_BYTES, 200),
                                                (MAX_UPLOAD_BYTES + 1, 413), (0, 400)])
def test_limit_is_inclusive_and_empty_is_400(size: int, expected: int) -> None:
    try:
        data = asyncio.run(read_capped(upload(b"\0" * size)))
    except HTTPException as exc:
        assert exc.status_code == expected
    else:
        assert expected == 200 and len(data) == size


# ----------------------------------------------------------------------------- resolution
@pytest.mark.parametrize("fmt", ["JPEG", "PNG", "WEBP"])
def test_size_is_read_from_the_header(fmt: str) -> None:
    assert image_size(encoded(fmt, 64, 48)) == (64, 48)


def test_declared_resolution_over_50_mp_is_413_without_decoding(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    bomb = png_declaring(10_000, 6_000)
    assert len(bomb) < 200_000  # small on the wire, 60 MP once decoded

    def no_decoding(*_args: object) -> None:
        raise AssertionError("pixels were decoded before the resolution check")

    monkeypatch.setattr(ImageFile.ImageFile, "load", no_decoding)
    for check in (lambda: image_size(bomb), lambda: decode_image(bomb, 1920)):
        with pytest.raises(HTTPException) as err:
            check()
        assert err.value.status_code == 413
        assert "10000x6000" in err.value.detail and "50 megapixel" in err.value.detail


def test_far_beyond_pil_limits_is_still_413() -> None:
    # PIL itself refuses > 2 * MAX_IMAGE_PIXELS on open: that also reads as too large.
    assert Image.MAX_IMAGE_PIXELS is not None
    side = int((2.5 * Image.MAX_IMAGE_PIXELS) ** 0.5)
    header = png_declaring(side, side, rows=1)
    with pytest.raises(HTTPException) as err:
        image_size(header)
    assert err.value.status_code == 413


def test_just_under_the_pixel_limit_passes() -> None:
    assert image_size(png_declaring(10_000, MAX_PIXELS // 10_000)) == (10_000, 5_000)


@pytest.mark.parametrize("data", [b"not an image at all", b"\x89PNG\r\n\x1a\n",
                                  b"GIF89a" + bytes(20), encoded("GIF"), encoded("BMP")])
def test_unrecognised_bytes_are_400(data: bytes) -> None:
    with pytest.raises(HTTPException) as err:
        image_size(data)
    assert err.value.status_code == 400


# ----------------------------------------------------------------------------- decoding
@pytest.mark.parametrize("fmt", ["JPEG", "PNG", "WEBP"])
def test_decodes_to_bgr(fmt: str) -> None:
    image = decode_image(encoded(fmt, 64, 48), 1920)
    assert image.shape == (48, 64, 3) and image.dtype == np.uint8
    b, g, r = image[24, 32].astype(int)
    assert r > 200 and g < 40 and b < 40  # red stays red: the channels are BGR


@pytest.mark.parametrize("cut", [0.3, 0.6, 0.95])
def test_truncated_jpeg_is_400(cut: float) -> None:
    data = noisy_jpeg()
    with pytest.raises(HTTPException) as err:
        decode_image(data[: int(len(data) * cut)], 1920)
    assert err.value.status_code == 400


def test_large_photos_are_scaled_to_fit() -> None:
    image = decode_image(encoded("JPEG", 4000, 3000), 1920)
    assert max(image.shape[:2]) == 1920 and image.shape[:2] == (1440, 1920)


def test_exif_orientation_is_applied() -> None:
    exif = Image.Exif()
    exif[0x0112] = 6  # rotate 90° clockwise for display
    image = decode_image(encoded("JPEG", 64, 48, exif=exif.tobytes()), 1920)
    assert image.shape[:2] == (64, 48)


def test_read_image_upload_checks_in_order() -> None:
    assert status_of(read_image_upload(upload(b"", "text/plain"))) == 415
    assert status_of(read_image_upload(upload(b""))) == 400
    assert status_of(read_image_upload(upload(b"\0" * (MAX_UPLOAD_BYTES + 1)))) == 413
    assert status_of(read_image_upload(upload(png_declaring(8000, 8000), "image/png"))) == 413
    data = encoded("PNG")
    assert asyncio.run(read_image_upload(upload(data, "image/png"))) == data


# ----------------------------------------------------------------------------- the request body
@pytest.fixture
def form_app() -> TestClient:
    """A one-route app that reports the size of the `file` part `photo_upload` parsed."""
    app = FastAPI()

    @app.post("/upload")
    async def receive(file: Annotated[StarletteUpload, Depends(photo_upload)]) -> dict[str, int]:
        return {"size": len(await file.read())}

    return api_client(app)


def test_multipart_file_part_is_parsed(form_app: TestClient) -> None:
    response = form_app.post("/upload", files={"file": ("a.png", b"x" * 5000, "image/png")})
    assert response.status_code == 200 and response.json() == {"size": 5000}


class EndlessBody:
    """ASGI `receive` of a multipart body that never ends, counting the bytes pulled."""

    HEAD = b"--x\r\nContent-Disposition: form-data; name=\"file\"; filename=\"a\"\r\n\r\n"

    def __init__(self) -> None:
        self.pulled = 0

    async def __call__(self) -> dict[str, Any]:
        chunk = self.HEAD if self.pulled == 0 else b"\0" * READ_CHUNK
        self.pulled += len(chunk)
        return {"type": "http.request", "body": chunk, "more_body": self.pulled < 1 << 30}


def post_raw(app: Any, headers: dict[str, str], body: EndlessBody) -> int:
    """POST /upload straight through ASGI; the response status."""
    sent: list[dict[str, Any]] = []

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    scope = {"type": "http", "method": "POST", "path": "/upload", "raw_path": b"/upload",
             "query_string": b"", "root_path": "", "scheme": "http", "http_version": "1.1",
             "server": ("test", 80), "client": ("test", 1),
             "headers": [(k.encode(), v.encode()) for k, v in headers.items()]}
    asyncio.run(app(scope, body, send))
    return int(sent[0]["status"])


def test_declared_body_over_the_cap_is_413_unread(form_app: TestClient) -> None:
    body = EndlessBody()
    status = post_raw(form_app.app, {"content-type": "multipart/form-data; boundary=x",
                                     "content-length": str(1 << 30)}, body)
    assert status == 413 and body.pulled == 0


def test_undeclared_body_stops_being_read_at_the_cap(form_app: TestClient) -> None:
    body = EndlessBody()  # chunked: no Content-Length to go by
    status = post_raw(form_app.app, {"content-type": "multipart/form-data; boundary=x",
                                     "transfer-encoding": "chunked"}, body)
    assert status == 413
    assert MAX_UPLOAD_BYTES < body.pulled <= MAX_UPLOAD_BYTES + MULTIPART_SLACK + READ_CHUNK


@pytest.mark.parametrize(("kwargs", "expected"), [
    ({"content": b"\xff\xd8\xff", "headers": {"content-type": "image/jpeg"}}, 415),
    ({"json": {"file": "x"}}, 415),
    ({"data": {"file": "not a file"}, "files": {"other": ("a", b"x", "image/png")}}, 422),
    ({"content": b"--x\r\nbroken", "headers": {"content-type": "multipart/form-data"}}, 400),
])
def test_bodies_without_a_file_part_are_refused(form_app: TestClient, kwargs: dict[str, Any],
                                                expected: int) -> None:
    assert form_app.post("/upload", **kwargs).status_code == expected
