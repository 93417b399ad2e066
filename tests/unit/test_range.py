"""Range parsing (RFC 9110 §14) and the streamed file response, without Ray."""

from __future__ import annotations

import warnings
from pathlib import Path

import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

with warnings.catch_warnings():  # starlette 1.x nags about httpx vs httpx2; httpx works
    warnings.simplefilter("ignore")
    from starlette.testclient import TestClient

from iris.serve import files
from iris.serve.files import ByteRange, RangeNotSatisfiable, file_response, parse_range

SIZE = 1000
UNSATISFIABLE = "416"


@pytest.mark.parametrize(
    ("header", "size", "expected"),
    [
        # absent → whole file
        (None, SIZE, None),
        ("", SIZE, None),
        # bytes=a-b
        ("bytes=0-0", SIZE, (0, 0)),  # first byte
        ("bytes=999-999", SIZE, (999, 999)),  # last byte
        ("bytes=0-999", SIZE, (0, 999)),  # exactly the whole file, still a 206
        ("bytes=10-19", SIZE, (10, 19)),
        ("bytes=500-5000", SIZE, (500, 999)),  # last-pos past the end is clamped
        ("bytes=5-5", 1, UNSATISFIABLE),
        # bytes=a-
        ("bytes=0-", SIZE, (0, 999)),
        ("bytes=999-", SIZE, (999, 999)),
        ("bytes=1000-", SIZE, UNSATISFIABLE),  # first-pos == size: past the end
        ("bytes=1000-2000", SIZE, UNSATISFIABLE),
        ("bytes=123456789012345678901234567890-", SIZE, UNSATISFIABLE),
        # suffix bytes=-N
        ("bytes=-1", SIZE, (999, 999)),
        ("bytes=-100", SIZE, (900, 999)),
        ("bytes=-1000", SIZE, (0, 999)),
        ("bytes=-5000", SIZE, (0, 999)),  # suffix larger than the file: all of it
        ("bytes=-0", SIZE, UNSATISFIABLE),
        # case-insensitive unit, optional whitespace, empty list elements
        ("Bytes=0-9", SIZE, (0, 9)),
        ("bytes= 0-9 ", SIZE, (0, 9)),
        ("bytes=0-9,", SIZE, (0, 9)),
        ("bytes=,0-9", SIZE, (0, 9)),
        # malformed or not honoured → whole file
        ("bytes=abc", SIZE, None),
        ("bytes=-", SIZE, None),
        ("bytes=", SIZE, None),
        ("bytes", SIZE, None),
        ("bytes=5-2", SIZE, None),  # last < first: an invalid spec
        ("bytes=+5-10", SIZE, None),
        ("bytes=-+5", SIZE, None),
        ("bytes=1_0-20", SIZE, None),
        ("bytes=0x10-20", SIZE, None),
        ("bytes=5 -10", SIZE, None),
        ("bytes=--5", SIZE, None),
        ("bytes=١-٢", SIZE, None),  # non-ASCII digits
        ("items=0-5", SIZE, None),  # another unit
        ("0-5", SIZE, None),
        ("bytes=0-1,5-6", SIZE, None),  # several ranges
        ("bytes=0-1,2000-3000", SIZE, None),
        # zero-length file: nothing to select
        (None, 0, None),
        ("bytes=0-", 0, UNSATISFIABLE),
        ("bytes=0-0", 0, UNSATISFIABLE),
        ("bytes=-5", 0, None),  # the "entire representation" is empty: a plain 200
        ("bytes=-0", 0, UNSATISFIABLE),
    ],
)
def test_parse_range(header: str | None, size: int, expected: object) -> None:
    if expected == UNSATISFIABLE:
        with pytest.raises(RangeNotSatisfiable) as caught:
            parse_range(header, size)
        assert caught.value.size == size
        return
    parsed = parse_range(header, size)
    if expected is None:
        assert parsed is None
    else:
        assert parsed == ByteRange(*expected, size)  # type: ignore[misc]


def test_byte_range_headers() -> None:
    byte_range = ByteRange(900, 999, 1000)
    assert byte_range.length == 100
    assert byte_range.content_range == "bytes 900-999/1000"


# ------------------------------------------------------------------ file_response, in-process
@pytest.fixture
def payload(tmp_path: Path) -> Path:
    path = tmp_path / "clip.mp4"
    path.write_bytes(bytes(range(256)) * 40)  # 10240 bytes, every offset distinguishable
    return path


def _client(path: Path, chunk_size: int = 4096, media_window: int = 3000) -> TestClient:
    def endpoint(request: Request) -> Response:
        return file_response(path, request.headers, chunk_size=chunk_size,
                             media_window=media_window)

    return TestClient(Starlette(routes=[Route("/f", endpoint)]))


def test_full_file_is_streamed_in_chunks(payload: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    reads: list[int] = []
    real_pread = files.os.pread

    def counting_pread(fd: int, n: int, offset: int) -> bytes:
        reads.append(n)
        return real_pread(fd, n, offset)

    monkeypatch.setattr(files.os, "pread", counting_pread)
    response = _client(payload).get("/f")
    assert response.status_code == 200
    assert response.content == payload.read_bytes()
    assert response.headers["accept-ranges"] == "bytes"
    assert response.headers["content-length"] == "10240"
    assert response.headers["content-type"] == "video/mp4"
    assert "content-range" not in response.headers
    assert reads == [4096, 4096, 2048]  # bounded reads, never the whole file at once


def test_partial_and_unsatisfiable(payload: Path) -> None:
    data = payload.read_bytes()
    client = _client(payload)
    part = client.get("/f", headers={"Range": "bytes=4090-4100"})
    assert part.status_code == 206
    assert part.content == data[4090:4101]
    assert part.headers["content-range"] == "bytes 4090-4100/10240"
    assert part.headers["content-length"] == "11"

    missed = client.get("/f", headers={"Range": "bytes=10240-"})
    assert missed.status_code == 416
    assert missed.headers["content-range"] == "bytes */10240"
    assert missed.headers["accept-ranges"] == "bytes"

    multi = client.get("/f", headers={"Range": "bytes=0-1,4-5"})
    assert multi.status_code == 200
    assert multi.content == data


def test_if_range(payload: Path) -> None:
    client = _client(payload)
    first = client.get("/f")
    etag, last_modified = first.headers["etag"], first.headers["last-modified"]
    for validator in (etag, last_modified):
        same = client.get("/f", headers={"Range": "bytes=0-9", "If-Range": validator})
        assert same.status_code == 206, validator
    for stale in ('"other"', f"W/{etag}", "Mon, 01 Jan 2001 00:00:00 GMT"):
        changed = client.get("/f", headers={"Range": "bytes=0-9", "If-Range": stale})
        assert changed.status_code == 200, stale
        assert len(changed.content) == 10240


def test_missing_or_directory_raises_file_not_found(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError):
        file_response(tmp_path / "absent.mp4", {})
    with pytest.raises(FileNotFoundError):
        file_response(tmp_path, {})


def test_empty_file(tmp_path: Path) -> None:
    empty = tmp_path / "empty.jpg"
    empty.write_bytes(b"")
    client = _client(empty)
    whole = client.get("/f")
    assert (whole.status_code, whole.content) == (200, b"")
    assert whole.headers["content-type"] == "image/jpeg"
    assert client.get("/f", headers={"Range": "bytes=0-"}).headers["content-range"] == "bytes */0"


@pytest.mark.parametrize(
    ("headers", "status", "content_range"),
    [
        ({"Range": "bytes=0-", "Sec-Fetch-Dest": "video"}, 206, "bytes 0-2999/10240"),
        ({"Range": "bytes=3000-", "Sec-Fetch-Dest": "Video"}, 206, "bytes 3000-5999/10240"),
        ({"Range": "bytes=9000-", "Sec-Fetch-Dest": "audio"}, 206, "bytes 9000-10239/10240"),
        ({"Range": "bytes=-5000", "Sec-Fetch-Dest": "video"}, 206, "bytes 5240-8239/10240"),
        ({"Range": "bytes=10-19", "Sec-Fetch-Dest": "video"}, 206, "bytes 10-19/10240"),
        ({"Range": "bytes=0-", "Sec-Fetch-Dest": "document"}, 206, "bytes 0-10239/10240"),
        ({"Range": "bytes=0-"}, 206, "bytes 0-10239/10240"),
        ({"Sec-Fetch-Dest": "video"}, 200, None),  # no Range: the whole file, never cut
    ],
)
def test_media_elements_get_one_window(payload: Path, headers: dict[str, str], status: int,
                                       content_range: str | None) -> None:
    data = payload.read_bytes()
    response = _client(payload).get("/f", headers=headers)
    assert response.status_code == status
    assert response.headers.get("content-range") == content_range
    if content_range is None:
        assert response.content == data
    else:
        first, last = map(int, content_range.split()[1].split("/")[0].split("-"))
        assert response.content == data[first : last + 1]
        assert response.headers["content-length"] == str(last - first + 1)


def test_window_can_be_disabled(payload: Path) -> None:
    response = _client(payload, media_window=0).get(
        "/f", headers={"Range": "bytes=0-", "Sec-Fetch-Dest": "video"})
    assert response.headers["content-range"] == "bytes 0-10239/10240"
