"""One redaction for source URLs: user info the way FFmpeg splits it, credential parameters."""

from __future__ import annotations

import pytest

from iris.redact import MASK, redact_text, redact_url


@pytest.mark.parametrize(("url", "expected"), [
    ("rtsp://user:pass@host/s", "rtsp://***@host/s"),  # the contract's example
    ("rtsp://user:p%40ss@10.0.0.5:554/live?ch=1", "rtsp://***@10.0.0.5:554/live?ch=1"),
    ("rtsp://user@host/s", "rtsp://***@host/s"),
    ("rtsp://host/s", "rtsp://host/s"),
    ("file:///srv/demo.mp4", "file:///srv/demo.mp4"),
    # FFmpeg takes the last '@': Python's split would leave 'p' of 'u:p@ss' in view.
    ("rtsp://u:p@ss@host/s", "rtsp://***@host/s"),
    # An unencoded '/' or '?' in the password: everything up to the last '@' goes.
    ("rtsp://admin:pa/ss@cam/s", "rtsp://***@cam/s"),
    ("rtsp://admin:pa?ss@cam/s", "rtsp://***@cam/s"),
    ("http://cam/snap.cgi?user=admin&pwd=hunter2&chn=1",
     "http://cam/snap.cgi?user=***&pwd=***&chn=1"),
    ("rtsp://cam/s?Token=abc&PASSWORD=x&api_key=k&Signature=z&res=hd",
     "rtsp://cam/s?Token=***&PASSWORD=***&api_key=***&Signature=***&res=hd"),
    ("rtsp://u:p@cam/s?credentials=c", "rtsp://***@cam/s?credentials=***"),
    ("rtsp://cam/s?user=", "rtsp://cam/s?user="),
])
def test_redact_url(url: str, expected: str) -> None:
    assert redact_url(url) == expected


@pytest.mark.parametrize(("text", "expected"), [
    ("rtsp://u:p@cam:554/s: Connection refused", "rtsp://***@cam:554/s: Connection refused"),
    ("http://token@host/x and rtsps://a:b@h/y", "http://***@host/x and rtsps://***@h/y"),
    ("/clips/a.mp4: No such file", "/clips/a.mp4: No such file"),
    ("GET http://cam/a?pwd=s3cret&x=1 failed", "GET http://cam/a?pwd=***&x=1 failed"),
])
def test_redact_text_masks_any_url(text: str, expected: str) -> None:
    assert redact_text(text) == expected


def test_redact_text_masks_the_known_sources_secrets_anywhere() -> None:
    url = "rtsp://admin:pa%2Fss%40word@10.0.0.5/h264?token=t0ken-value"
    text = (f"[Errno 111] Connection refused: '{url}'; auth for admin with pa/ss@word "
            "failed; token t0ken-value rejected")
    redacted = redact_text(text, [url])
    for secret in ("pa%2Fss%40word", "pa/ss@word", "t0ken-value"):
        assert secret not in redacted, redacted
    assert "rtsp://***@10.0.0.5/h264?token=***" in redacted
    assert redacted.count(MASK) >= 4


def test_mask_is_an_echo_for_the_update_rule() -> None:
    from iris.serve.schemas.cameras import is_echo, mask_url

    for url in ("rtsp://u:p@cam/s", "http://cam/s?pwd=x"):
        assert is_echo(mask_url(url))
    assert mask_url("rtsp://user:pass@host/s") == "rtsp://***@host/s"
