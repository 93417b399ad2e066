"""URL masking, update echo handling and trigger-class parsing."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from iris.serve.schemas.cameras import CameraCreate, CameraUpdate, is_echo, mask_url


@pytest.mark.parametrize(
    ("url", "masked"),
    [
        ("rtsp://user:pass@host/s", "rtsp://***@host/s"),
        ("rtsp://user:p%40ss@10.0.0.5:554/live?ch=1", "rtsp://***@10.0.0.5:554/live?ch=1"),
        ("rtsp://user@host/s", "rtsp://***@host/s"),
        ("rtsp://host/s", "rtsp://host/s"),
        ("file:///srv/demo.mp4", "file:///srv/demo.mp4"),
    ],
)
def test_mask_url(url: str, masked: str) -> None:
    assert mask_url(url) == masked
    assert "pass" not in mask_url(url)


@pytest.mark.parametrize(("url", "echo"), [(None, True), ("", True), ("  ", True),
                                           ("rtsp://***@h/s", True), ("rtsp://h/s", False)])
def test_is_echo(url: str | None, echo: bool) -> None:
    assert is_echo(url) is echo


@pytest.mark.parametrize("url", ["http//nope", "ftp://host/x", "rtsp://", "just text"])
def test_bad_urls_are_refused(url: str) -> None:
    with pytest.raises(ValidationError, match="rtsp_url"):
        CameraCreate(name="c", rtsp_url=url)


@pytest.mark.parametrize(("url", "why"), [
    ("file:concat:/etc/passwd|/etc/apt/trusted.gpg.d/debian-archive-bookworm-stable.asc",
     "may not contain"),
    ("subfile,,0,100,:/etc/passwd", "needs a scheme"),
    ("http://169.254.169.254/latest/meta-data#.ans", "contains '#'"),
    ("rtsp://admin:pa/ss@cam/s", "percent-encode the password"),
])
def test_ffmpeg_input_syntax_is_refused_with_the_reason(url: str, why: str) -> None:
    with pytest.raises(ValidationError, match="rtsp_url") as refused:
        CameraCreate(name="c", rtsp_url=url)
    assert why in str(refused.value)
    with pytest.raises(ValidationError, match=why):
        CameraUpdate(rtsp_url=url)


def test_trigger_classes_are_normalised() -> None:
    camera = CameraCreate(name="c", rtsp_url="rtsp://h/s", trigger_classes=" Person, car,person,")
    assert camera.trigger_classes == "person,car"
    with pytest.raises(ValidationError, match="trigger_classes"):
        CameraCreate(name="c", rtsp_url="rtsp://h/s", trigger_classes="per$on")


def test_update_accepts_masked_echo_but_validates_new_urls() -> None:
    assert CameraUpdate(rtsp_url="rtsp://***@h/s").rtsp_url == "rtsp://***@h/s"
    with pytest.raises(ValidationError, match="rtsp_url"):
        CameraUpdate(rtsp_url="gopher://h/s")
