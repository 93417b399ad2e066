"""Every FFmpeg option of `ffmpeg_input` does what it claims, against real local servers.

FFmpeg ignores options it does not know, so each is proven by opening the same input with
and without it: the protocol whitelist, the demuxer whitelist, TLS verification and the
refusal of HTTP redirects (no Ray).
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import av
import pytest

from iris.actors.ingest import IngestOptions, open_source
from iris.sources import SourcePolicy, check_source, ffmpeg_input, parse_source
from tests.support.media import make_clip, to_annexb
from tests.support.rtsp import RtspServer, gstreamer_available
from tests.support.tls import Certificate, FileServer, TlsFront, self_signed

OPEN_TIMEOUT = (10.0, 5.0)


def opens(target: str, fmt: str | None = None, options: dict[str, str] | None = None) -> bool:
    """Whether FFmpeg opens `target` and demuxes a packet from it."""
    try:
        with av.open(target, format=fmt, options=options or {}, timeout=OPEN_TIMEOUT) as c:
            return next(iter(c.demux()), None) is not None
    except (av.FFmpegError, OSError):
        return False


@pytest.fixture(scope="module")
def folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The local sources folder: a real clip and a text file dressed as art (.asc)."""
    path = tmp_path_factory.mktemp("sources")
    make_clip(path / "clip.mp4", seconds=2, fps=25, size=(160, 120))
    shutil.copy("/etc/passwd", path / "notes.asc")  # what the reproduction rendered
    return path


@pytest.fixture(scope="module")
def certificate(tmp_path_factory: pytest.TempPathFactory) -> Certificate:
    return self_signed(tmp_path_factory.mktemp("tls"))


def test_local_file_whitelist_refuses_other_protocols(folder: Path) -> None:
    policy = SourcePolicy(local_dir=folder)
    spec = ffmpeg_input(check_source((folder / "clip.mp4").as_uri(), policy), policy)
    assert opens(spec.target, spec.format, spec.options)
    concat = f"concat:{folder / 'clip.mp4'}|{folder / 'notes.asc'}"
    assert opens(concat)  # what a file source could do without the whitelist
    assert not opens(concat, spec.format, spec.options)


def test_probed_sources_may_only_be_camera_containers(folder: Path) -> None:
    # A regular file inside the folder passes the policy; its content still decides nothing.
    policy = SourcePolicy(local_dir=folder)
    spec = ffmpeg_input(check_source((folder / "notes.asc").as_uri(), policy), policy)
    assert opens(spec.target)  # FFmpeg's tty demuxer renders the text as video
    assert not opens(spec.target, spec.format, spec.options)


def test_https_certificates_are_verified(folder: Path, certificate: Certificate) -> None:
    with FileServer(folder, certificate) as server:
        url = server.url("clip.mp4")
        source = parse_source(url)  # loopback: the policy would refuse it before FFmpeg
        verified = ffmpeg_input(source, SourcePolicy(allow_http=True))
        assert not opens(verified.target, verified.format, verified.options)  # self-signed
        relaxed = ffmpeg_input(source, SourcePolicy(allow_http=True, tls_verify=False))
        assert opens(relaxed.target, relaxed.format, relaxed.options)
        trusted = ffmpeg_input(source, SourcePolicy(allow_http=True, ca_file=certificate.cert))
        assert opens(trusted.target, trusted.format, trusted.options)


def test_http_redirects_are_not_followed(folder: Path) -> None:
    # A redirect would lead FFmpeg to a host the policy never checked.
    with FileServer(folder) as server:
        url = server.url("redirect/clip.mp4")
        assert opens(url)
        spec = ffmpeg_input(parse_source(url), SourcePolicy(allow_http=True))
        assert opens(server.url("clip.mp4"), spec.format, spec.options)
        assert not opens(spec.target, spec.format, spec.options)


@pytest.fixture(scope="module")
def rtsp_camera(folder: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[RtspServer]:
    if not gstreamer_available():
        pytest.skip("GStreamer RTSP server missing")
    log = tmp_path_factory.mktemp("rtsp") / "rtsp.log"
    with RtspServer(to_annexb(folder / "clip.mp4"), fps=25, log_path=log) as server:
        yield server


def _ingest_opens(url: str, policy: SourcePolicy) -> bool:
    try:
        _, container = open_source(IngestOptions(url=url, policy=policy))
    except (av.FFmpegError, OSError):
        return False
    with container:
        return next(iter(container.demux()), None) is not None


def test_rtsps_certificates_are_verified_by_the_camera_opener(
    rtsp_camera: RtspServer, certificate: Certificate
) -> None:
    with TlsFront(certificate, rtsp_camera.port) as front:
        url = f"rtsps://127.0.0.1:{front.port}/cam"
        assert not _ingest_opens(url, SourcePolicy())  # default: verify, self-signed refused
        assert _ingest_opens(url, SourcePolicy(tls_verify=False))
        assert _ingest_opens(url, SourcePolicy(ca_file=certificate.cert))
