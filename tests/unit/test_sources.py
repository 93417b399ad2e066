"""The source policy: which camera URLs Iris opens, and what stays the same camera (no FFmpeg)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from iris.sources import (
    PROTOCOLS,
    SourcePolicy,
    SourceRefused,
    check_source,
    ffmpeg_input,
    forbidden_address,
    parse_source,
    same_endpoint,
)

REPRODUCTION = ("file:concat:/etc/passwd|"
                "/etc/apt/trusted.gpg.d/debian-archive-bookworm-stable.asc")


def public(host: str, port: int) -> list[str]:
    """A resolver that answers one public address for every name."""
    return ["93.184.216.34"]


def resolving_to(*addresses: str):  # noqa: ANN201 - a resolver
    return lambda host, port: list(addresses)


@pytest.fixture
def local(tmp_path: Path) -> Path:
    folder = tmp_path / "demo"
    folder.mkdir()
    (folder / "clip.mp4").write_bytes(b"not really a clip")
    return folder


@pytest.mark.parametrize("url", [
    "rtsp://cam/stream", "rtsp://user:pass@10.0.0.5:554/h264?ch=1", "rtsps://cam:322/s",
    "rtsp://127.0.0.1:8554/cam", "rtsp://[fe80::1]/s", "rtsp://u:p%40ss%2Fw%3Fx%23@cam/s",
])
def test_rtsp_sources_are_always_accepted(url: str) -> None:
    assert check_source(url, SourcePolicy()).url == url


@pytest.mark.parametrize(("url", "why"), [
    (REPRODUCTION, "may not contain"),
    ("file:///etc/passwd", "must be inside"),
    ("gopher://cam/x", "scheme must be one of"),
    ("concat:/etc/passwd", "scheme must be one of"),
    ("subfile,,0,9,:/etc/passwd", "needs a scheme"),
    ("/etc/passwd", "needs a scheme"),
    ("RTSP://cam/s", "lower case"),
    ("rtsp:/cam/s", "starts with rtsp://"),
    ("rtsp://", "no host"),
    ("rtsp://cam:/s", "no port"),
    ("rtsp://cam:70000/s", "not a port"),
    ("rtsp://cam:5a4/s", "not a port"),
    ("rtsp://ca m/s", "spaces"),
    ("rtsp://cam/s\n", "control"),
    ("rtsp://cam/s\x00.mp4", "control"),
    ("rtsp://c\u00e4m/s", "non-ASCII"),
    ("http://169.254.169.254/latest/meta-data#.ans", "contains '#'"),
])
def test_refused_urls_say_why(url: str, why: str, local: Path) -> None:
    with pytest.raises(SourceRefused, match=why):
        check_source(url, SourcePolicy(local_dir=local, allow_http=True), resolve=public)


@pytest.mark.parametrize("url", [
    "rtsp://admin:pa/ss@cam/s",     # Python: host 'admin', port 'pa'; FFmpeg: port 0
    "rtsp://admin:pa?ss@cam/s",
    "rtsp://admin:pa#ss@cam/s",
    "rtsp://admin:p@ss@cam/s",      # two '@'
    "rtsp://ad min:pass@cam/s",
    "rtsp://admin:pa\tss@cam/s",
    "rtsp://admin:pa%zzss@cam/s",   # not a percent escape
])
def test_user_info_that_python_and_ffmpeg_split_differently_is_refused(url: str) -> None:
    with pytest.raises(SourceRefused, match="percent-encode|spaces") as refused:
        parse_source(url)
    assert url not in str(refused.value)  # the message never echoes the secret


def test_http_sources_need_the_setting() -> None:
    for url in ("http://cam.example/video", "https://cam.example/v", "rtmp://cam.example/l"):
        with pytest.raises(SourceRefused, match="allow_http_sources"):
            check_source(url, SourcePolicy(), resolve=public)
        assert check_source(url, SourcePolicy(allow_http=True), resolve=public).host


@pytest.mark.parametrize(("addresses", "why"), [
    (["127.0.0.1"], "loopback"), (["::1"], "loopback"), (["::ffff:127.0.0.1"], "loopback"),
    (["169.254.169.254"], "metadata"), (["169.254.10.1"], "link-local"),
    (["fe80::1"], "link-local"), (["fd00:ec2::254"], "metadata"),
    (["100.100.100.200"], "metadata"), (["0.0.0.0"], "unspecified"), (["::"], "unspecified"),
    (["64:ff9b::a9fe:a9fe"], "metadata"),
    (["93.184.216.34", "127.0.0.1"], "loopback"),  # every address counts, not the first
])
def test_http_hosts_resolving_to_internal_addresses_are_refused(addresses: list[str],
                                                                 why: str) -> None:
    policy = SourcePolicy(allow_http=True)
    with pytest.raises(SourceRefused, match=why):
        check_source("http://camera.example/video.mjpg", policy, resolve=resolving_to(*addresses))


def test_http_host_that_does_not_resolve_is_refused() -> None:
    with pytest.raises(SourceRefused, match="does not resolve"):
        check_source("http://no-such-host.invalid/v", SourcePolicy(allow_http=True))
    with pytest.raises(SourceRefused, match="does not resolve"):
        check_source("http://cam.example/v", SourcePolicy(allow_http=True),
                     resolve=resolving_to())


def test_real_resolution_refuses_loopback_names() -> None:
    # The system resolver, not a stand-in: numeric forms getaddrinfo understands count too.
    for host in ("localhost", "127.1", "2130706433", "0x7f.0.0.1", "[::1]"):
        with pytest.raises(SourceRefused, match="loopback"):
            check_source(f"http://{host}/x", SourcePolicy(allow_http=True))
    assert forbidden_address("192.0.2.10") is None


def test_local_files_only_regular_files_inside_the_folder(local: Path, tmp_path: Path) -> None:
    policy = SourcePolicy(local_dir=local)
    clip = local / "clip.mp4"
    vetted = check_source(clip.as_uri(), policy)
    assert vetted.is_file and vetted.path == clip.resolve()
    assert vetted.target == f"file:{clip.resolve()}"  # no other protocol can parse it
    assert check_source(f"file:{clip}", policy).path == clip.resolve()

    outside = tmp_path / "outside.mp4"
    outside.write_bytes(b"x")
    (local / "link.mp4").symlink_to(outside)  # resolved: a symlink does not get out
    (local / "dots").mkdir()
    cases = {
        (local / "link.mp4").as_uri(): "must be inside",
        f"file://{local}/dots/../../outside.mp4": "must be inside",
        (local / "missing.mp4").as_uri(): "No file",
        (local / "dots").as_uri(): "not a regular file",
        f"file://{local}/clip.mp4?x=1": "no query",
        "file://host/clip.mp4": "names no host",
        f"file:{local}/a%3Ab.mp4": "may not contain",  # decoded before the check
        f"file:{local}/a,b.mp4": "may not contain",
    }
    os.mkfifo(local / "pipe.mp4")  # opening a FIFO blocks forever: never a source
    cases[(local / "pipe.mp4").as_uri()] = "not a regular file"
    for url, why in cases.items():
        with pytest.raises(SourceRefused, match=why):
            check_source(url, policy)
    with pytest.raises(SourceRefused, match="not camera sources"):
        check_source(clip.as_uri(), SourcePolicy())


def test_policy_from_settings(tmp_path: Path) -> None:
    from iris.settings import Settings

    settings = Settings(data_dir=tmp_path, allow_http_sources=True, tls_verify=False)
    policy = SourcePolicy.from_settings(settings)
    assert policy == SourcePolicy(allow_http=True, local_dir=(tmp_path / "demo").resolve(),
                                  tls_verify=False)


@pytest.mark.parametrize(("url", "protocols", "fmt"), [
    ("rtsp://cam/s", "rtsp,rtp,udp,tcp", "rtsp"),
    ("rtsps://cam/s", PROTOCOLS["rtsps"], "rtsp"),
    ("http://cam/s", "http,tcp", None),
    ("https://cam/s", "https,tls,tcp", None),
    ("rtmp://cam/s", "rtmp,tcp", "flv"),
])
def test_ffmpeg_input_limits_protocols_and_demuxers(url: str, protocols: str,
                                                    fmt: str | None) -> None:
    spec = ffmpeg_input(parse_source(url), SourcePolicy())
    assert spec.target == url and spec.format == fmt
    assert spec.options["protocol_whitelist"] == protocols
    assert ("format_whitelist" in spec.options) == (fmt is None)
    tls = url.startswith(("https", "rtsps"))
    assert spec.options.get("tls_verify") == ("1" if tls else None)
    assert spec.options.get("max_redirects") == ("0" if url.startswith("http") else None)
    relaxed = ffmpeg_input(parse_source(url), SourcePolicy(tls_verify=False))
    assert relaxed.options.get("tls_verify") == ("0" if tls else None)


@pytest.mark.parametrize(("a", "b", "same"), [
    ("rtsp://u:p@cam/s", "rtsp://other:secret@cam/s", True),
    ("rtsp://u:p@cam/s", "rtsp://cam/s", True),
    ("rtsp://cam/s", "rtsp://cam:554/s", True),
    ("rtsp://CAM/s", "rtsp://cam/s", True),
    ("http://cam/snap?user=a&pwd=b&ch=1", "http://cam/snap?ch=1&user=c&pwd=d", True),
    ("rtsp://cam/s?token=1", "rtsp://cam/s?token=2", True),
    ("rtsp://cam/s", "rtsps://cam/s", False),
    ("rtsp://cam/s", "rtsp://cam2/s", False),
    ("rtsp://cam/s", "rtsp://cam:8554/s", False),
    ("rtsp://cam/s", "rtsp://cam/t", False),
    ("rtsp://cam/s?ch=1", "rtsp://cam/s?ch=2", False),
    ("file:///a/b.mp4", "file:/a/b.mp4", True),
    ("file:///a/b.mp4", "file:///a/c.mp4", False),
    ("not a url", "not a url", True),
    ("not a url", "rtsp://cam/s", False),
])
def test_same_endpoint_ignores_only_credentials(a: str, b: str, same: bool) -> None:
    assert same_endpoint(a, b) is same
    assert same_endpoint(b, a) is same
