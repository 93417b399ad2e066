"""Which camera sources Iris opens, and how FFmpeg must open them (no Ray, no FastAPI).

A camera source is a camera, not an arbitrary FFmpeg input: ``rtsp``/``rtsps`` always,
``http``/``https``/``rtmp`` only when `SourcePolicy.allow_http` (and never to loopback,
link-local, unspecified or cloud-metadata addresses, checked after DNS resolution), and
``file:`` only for a regular file inside `SourcePolicy.local_dir`. The API validates with
`check_source` (422) and every opener checks again with it right before opening, then opens
with `ffmpeg_input`: a protocol whitelist for the scheme, the demuxer forced or whitelisted,
TLS verification, no HTTP redirects.
"""

from __future__ import annotations

import ipaddress
import os
import re
import socket
import stat
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import parse_qsl, unquote, urlsplit

from iris.redact import is_credential_param

if TYPE_CHECKING:
    from iris.settings import Settings

ALWAYS_SCHEMES = ("rtsp", "rtsps")
HTTP_SCHEMES = ("http", "https", "rtmp")
FILE_SCHEME = "file"
SCHEMES = (*ALWAYS_SCHEMES, *HTTP_SCHEMES, FILE_SCHEME)
DEFAULT_PORTS = {"rtsp": 554, "rtsps": 322, "http": 80, "https": 443, "rtmp": 1935}
MAX_URL_LENGTH = 2048
RESOLVE_TIMEOUT_S = 5.0

#: FFmpeg protocols each scheme needs, nested ones included (RTSP's RTP/UDP, TLS under TCP).
PROTOCOLS = {
    "rtsp": "rtsp,rtp,udp,tcp",
    "rtsps": "rtsps,rtsp,rtp,udp,tcp,tls",
    "http": "http,tcp",
    "https": "https,tls,tcp",
    "rtmp": "rtmp,tcp",
    "file": "file",
}
#: The demuxer a scheme implies: FFmpeg probes no other.
FORMATS = {"rtsp": "rtsp", "rtsps": "rtsp", "rtmp": "flv"}
#: Demuxers a probed source (file, http) may turn out to be: camera containers and streams,
#: never a playlist, a concat script or text rendered as video.
CAMERA_DEMUXERS = "mov,matroska,mpegts,flv,avi,h264,hevc,mpjpeg,mjpeg"
#: Characters FFmpeg reads as protocol syntax in a path (`concat:a|b`, `subfile,,0,9,:x`).
FILE_PATH_FORBIDDEN = frozenset(":|,")
#: Cloud instance-metadata services (link-local ones are refused as link-local already).
METADATA_ADDRESSES = frozenset(ipaddress.ip_address(a) for a in (
    "169.254.169.254", "169.254.170.2", "fd00:ec2::254", "100.100.100.200", "168.63.129.16",
    "192.0.0.192",
))
_NAT64 = ipaddress.ip_network("64:ff9b::/96")
_THIS_NETWORK = ipaddress.ip_network("0.0.0.0/8")
_SCHEME = re.compile(r"^([A-Za-z][A-Za-z0-9+.-]*):")
_USERINFO = re.compile(r"^(?:[A-Za-z0-9._~!$&'()*+,;=:-]|%[0-9A-Fa-f]{2})*$")
_REG_NAME = re.compile(r"^[A-Za-z0-9_.-]+$")
_PORT = re.compile(r"^[0-9]{1,5}$")
ENCODE_HINT = ("percent-encode the password: '@' as %40, '/' as %2F, '?' as %3F, '#' as %23, "
               "':' in the user name as %3A")


class SourceRefused(ValueError):
    """A camera source Iris will not open; the message says why, in a sentence for users."""


@dataclass(frozen=True)
class SourcePolicy:
    """What this server accepts as camera sources (from `Settings`, see `from_settings`).

    Attributes:
        allow_http: accept ``http``, ``https`` and ``rtmp`` sources (still never to loopback,
            link-local, unspecified or metadata addresses).
        local_dir: the only folder whose regular files may be sources; None: no files.
        tls_verify: verify the certificates of ``rtsps``/``https`` sources.
        ca_file: PEM bundle to verify against instead of the system's trust store.
    """

    allow_http: bool = False
    local_dir: Path | None = None
    tls_verify: bool = True
    ca_file: Path | None = None

    @classmethod
    def from_settings(cls, settings: Settings) -> SourcePolicy:
        """The policy the settings describe."""
        return cls(allow_http=settings.allow_http_sources,
                   local_dir=settings.local_sources_path, tls_verify=settings.tls_verify)


@dataclass(frozen=True)
class Source:
    """A camera URL split the one way both Python and FFmpeg split it."""

    url: str = field(repr=False)
    scheme: str
    host: str | None = None  # network sources, lower case, IPv6 without brackets
    port: int | None = None  # the scheme's default port when the URL names none
    path: Path | None = None  # file sources: decoded, resolved once `check_source` passed

    @property
    def is_file(self) -> bool:
        """True for a local file (played in a loop at real-time pace)."""
        return self.scheme == FILE_SCHEME

    @property
    def target(self) -> str:
        """What FFmpeg opens: the URL, or ``file:<path>`` (no other protocol can parse it)."""
        return f"file:{self.path}" if self.is_file else self.url


@dataclass(frozen=True)
class FFmpegInput:
    """Arguments for `av.open` that open a vetted source and nothing else."""

    target: str = field(repr=False)
    format: str | None
    options: dict[str, str]


# ---------------------------------------------------------------------------------- parsing
def parse_source(url: str) -> Source:
    """Split a camera URL, refusing anything Python and FFmpeg could read differently.

    Needs no settings (the API schema uses it as is); `check_source` adds the policy.

    Raises:
        SourceRefused: unknown scheme, no host, ambiguous user info, control characters …
    """
    if not isinstance(url, str) or not url:
        raise SourceRefused("The camera URL is empty.")
    if len(url) > MAX_URL_LENGTH:
        raise SourceRefused(f"The camera URL is longer than {MAX_URL_LENGTH} characters.")
    if any(ord(c) <= 0x20 or ord(c) >= 0x7F for c in url):
        raise SourceRefused("The camera URL contains spaces, control or non-ASCII characters; "
                            "percent-encode them (a space is %20).")
    match = _SCHEME.match(url)
    if match is None:
        raise SourceRefused("The camera URL needs a scheme, e.g. rtsp://camera/stream.")
    scheme = match[1]
    if scheme.lower() not in SCHEMES:
        raise SourceRefused(f"URL scheme must be one of {', '.join(SCHEMES)}, "
                            f"not {scheme!r}.")
    if scheme != scheme.lower():
        raise SourceRefused(f"Write the URL scheme in lower case ({scheme.lower()}://…).")
    if "#" in url:
        raise SourceRefused("The camera URL contains '#', which FFmpeg and Iris read "
                            f"differently; {ENCODE_HINT}.")
    if scheme == FILE_SCHEME:
        return _parse_file(url)
    return _parse_network(url, scheme)


def _parse_file(url: str) -> Source:
    rest = url[len("file:"):]
    if rest.startswith("//"):
        authority, _, path = rest[2:].partition("/")
        if authority not in ("", "localhost"):
            raise SourceRefused("A file URL names no host: use file:///path/to/clip.mp4.")
        rest = "/" + path
    if "?" in rest:
        raise SourceRefused("A file URL takes no query ('?').")
    decoded = unquote(rest)
    bad = sorted(FILE_PATH_FORBIDDEN & set(decoded))
    if bad:
        raise SourceRefused(f"A file path may not contain {', '.join(map(repr, bad))} "
                            "(FFmpeg reads them as protocol syntax).")
    if any(ord(c) < 0x20 or ord(c) == 0x7F for c in decoded):
        raise SourceRefused("The file path contains control characters.")
    if not decoded.startswith("/"):
        raise SourceRefused("A file URL needs an absolute path: file:///path/to/clip.mp4.")
    return Source(url=url, scheme=FILE_SCHEME, path=Path(decoded))


def _parse_network(url: str, scheme: str) -> Source:
    prefix = f"{scheme}://"
    if not url.startswith(prefix):
        raise SourceRefused(f"A {scheme} URL starts with {prefix}, e.g. {prefix}camera/stream.")
    rest = url[len(prefix):]
    end = min((i for i in (rest.find(c) for c in "/?") if i >= 0), default=len(rest))
    authority, tail = rest[:end], rest[end:]
    if "@" in tail:
        raise SourceRefused(f"The camera URL has an '@' after the host; {ENCODE_HINT}.")
    userinfo, at, hostport = authority.rpartition("@")
    if at and ("@" in userinfo or not _USERINFO.match(userinfo)):
        raise SourceRefused(f"The user name or password in the camera URL is ambiguous; "
                            f"{ENCODE_HINT}.")
    host, port = _split_hostport(hostport)
    default = DEFAULT_PORTS[scheme]
    try:  # the same split through Python's eyes, or the URL is refused
        parts = urlsplit(url)
        same = (parts.hostname == host and (parts.port or default) == (port or default))
    except ValueError:
        same = False
    if not same:
        raise SourceRefused(f"The camera URL's host or port is ambiguous; {ENCODE_HINT}.")
    return Source(url=url, scheme=scheme, host=host, port=port or default)


def _split_hostport(hostport: str) -> tuple[str, int | None]:
    if hostport.startswith("["):
        inside, bracket, after = hostport[1:].partition("]")
        try:
            ipaddress.IPv6Address(inside)
        except ValueError:
            raise SourceRefused("The camera URL's IPv6 address is not valid.") from None
        host, port_text = inside, after
        if not bracket or (port_text and not port_text.startswith(":")):
            raise SourceRefused("The camera URL's IPv6 address is not valid.")
        port_text = port_text[1:] if port_text else ""
    else:
        host, colon, port_text = hostport.partition(":")
        if colon and not port_text:
            raise SourceRefused("The camera URL has a ':' but no port after the host.")
        if host and not _REG_NAME.match(host):
            raise SourceRefused(f"The camera URL's host {host!r} is not a host name or "
                                f"address; {ENCODE_HINT}.")
        if ":" in port_text:
            raise SourceRefused(f"The camera URL's host or port is ambiguous; {ENCODE_HINT}.")
    if not host:
        raise SourceRefused("The camera URL has no host.")
    if not port_text:
        return host.lower(), None
    if not _PORT.match(port_text) or not 0 < int(port_text) < 65536:
        raise SourceRefused(f"The camera URL's port {port_text!r} is not a port number.")
    return host.lower(), int(port_text)


# ---------------------------------------------------------------------------------- policy
Resolver = Callable[[str, int], list[str]]


def check_source(url: str, policy: SourcePolicy, *, resolve: Resolver | None = None) -> Source:
    """Whether Iris may open `url` under `policy`; the vetted `Source` if so.

    Network hosts of ``http``/``https``/``rtmp`` sources are resolved (all addresses) and
    refused when any is loopback, link-local, unspecified or a metadata service. Call it at
    validation and again right before every open: DNS answers change.

    Args:
        url: the camera URL as stored.
        policy: what this server accepts.
        resolve: ``(host, port) -> [address, …]`` (tests); default: the system resolver
            with a `RESOLVE_TIMEOUT_S` bound.

    Raises:
        SourceRefused: with a sentence saying why.
    """
    source = parse_source(url)
    if source.is_file:
        return _check_file(source, policy)
    if source.scheme in HTTP_SCHEMES:
        if not policy.allow_http:
            raise SourceRefused(f"{source.scheme} sources are switched off on this server "
                                "(setting allow_http_sources); use rtsp:// or rtsps://.")
        assert source.host is not None and source.port is not None
        addresses = (resolve or resolve_host)(source.host, source.port)
        if not addresses:
            raise SourceRefused(f"The camera host {source.host} does not resolve.")
        for address in addresses:
            why = forbidden_address(address)
            if why is not None:
                raise SourceRefused(f"The camera host {source.host} resolves to {address} "
                                    f"({why}): such addresses are never camera sources.")
    return source


def _check_file(source: Source, policy: SourcePolicy) -> Source:
    if policy.local_dir is None:
        raise SourceRefused("Local files are not camera sources on this server.")
    assert source.path is not None
    folder = Path(policy.local_dir).resolve()
    try:
        resolved = source.path.resolve(strict=True)
        mode = os.stat(resolved).st_mode
    except (OSError, RuntimeError):
        raise SourceRefused(f"No file {source.path} (local sources live in {folder}).") from None
    if not resolved.is_relative_to(folder):
        raise SourceRefused(f"Local camera files must be inside {folder}.")
    if not stat.S_ISREG(mode):
        raise SourceRefused(f"{source.path} is not a regular file.")
    if FILE_PATH_FORBIDDEN & set(str(resolved)):
        raise SourceRefused("The file's real path contains ':', '|' or ','.")
    return Source(url=source.url, scheme=FILE_SCHEME, path=resolved)


def forbidden_address(address: str) -> str | None:
    """Why an address can never be a camera (loopback, link-local …); None when it can."""
    try:
        ip = ipaddress.ip_address(address.split("%", 1)[0])
    except ValueError:
        return "not an address"
    if isinstance(ip, ipaddress.IPv6Address):
        embedded = ip.ipv4_mapped or ip.sixtofour
        if embedded is None and ip in _NAT64:
            embedded = ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
        if embedded is not None:
            return forbidden_address(str(embedded))
    if ip in METADATA_ADDRESSES:
        return "a cloud metadata service"
    if ip.is_loopback:
        return "loopback"
    if ip.is_link_local:
        return "link-local"
    if ip.is_unspecified or (isinstance(ip, ipaddress.IPv4Address) and ip in _THIS_NETWORK):
        return "unspecified"
    return None


def resolve_host(host: str, port: int, timeout_s: float = RESOLVE_TIMEOUT_S) -> list[str]:
    """Every address `host` resolves to (the system resolver, bounded by `timeout_s`).

    Raises:
        SourceRefused: the name does not resolve, or not within `timeout_s`.
    """
    found: list[str] = []
    failure: list[BaseException] = []

    def lookup() -> None:
        try:
            infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
            found.extend(dict.fromkeys(str(info[4][0]) for info in infos))
        except OSError as exc:
            failure.append(exc)

    # getaddrinfo has no timeout of its own; a stuck lookup is left behind in its thread.
    thread = threading.Thread(target=lookup, name=f"resolve {host}", daemon=True)
    thread.start()
    thread.join(timeout_s)
    if thread.is_alive():
        raise SourceRefused(f"The camera host {host} did not resolve within {timeout_s:g} s.")
    if failure:
        raise SourceRefused(f"The camera host {host} does not resolve ({failure[0]}).")
    return found


# ---------------------------------------------------------------------------------- opening
def ffmpeg_input(source: Source, policy: SourcePolicy) -> FFmpegInput:
    """How to `av.open` a vetted source: only its protocols, its demuxer, TLS verified.

    The caller adds its timeouts and transport options to `FFmpegInput.options`.
    """
    options = {"protocol_whitelist": PROTOCOLS[source.scheme]}
    fmt = FORMATS.get(source.scheme)
    if fmt is None:
        options["format_whitelist"] = CAMERA_DEMUXERS
    if source.scheme in ("rtsps", "https"):
        options["tls_verify"] = "1" if policy.tls_verify else "0"
        if policy.tls_verify and policy.ca_file is not None:
            options["ca_file"] = str(policy.ca_file)
    if source.scheme in ("http", "https"):
        options["max_redirects"] = "0"  # a redirect would go to a host nobody checked
    return FFmpegInput(target=source.target, format=fmt, options=options)


# ---------------------------------------------------------------------------------- identity
def same_endpoint(a: str, b: str) -> bool:
    """True when two camera URLs name the same stream: they differ at most in credentials.

    Scheme, host, port (default ports filled in), path and non-credential query parameters
    must match; user info and credential query parameters (`iris.redact`) may differ. URLs
    that do not parse compare equal only when identical.
    """
    try:
        left, right = _endpoint(a), _endpoint(b)
    except (SourceRefused, ValueError):
        return a == b
    return left == right


def _endpoint(url: str) -> tuple[object, ...]:
    source = parse_source(url)
    if source.is_file:
        return (source.scheme, str(source.path))
    parts = urlsplit(url)
    query = tuple(sorted((k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True)
                         if not is_credential_param(k)))
    return (source.scheme, source.host, source.port, unquote(parts.path) or "/", query)
