"""A model mirror on loopback: a stdlib HTTP server with Range support, serving files a test
builds, and able to misbehave the ways real mirrors do (a dropped connection, damaged bytes).
"""

from __future__ import annotations

import hashlib
import json
import re
import threading
import zipfile
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

_RANGE = re.compile(r"^bytes=(\d+)-$")


@dataclass
class Request:
    """One GET the mirror answered."""

    path: str
    range: str | None
    status: int
    sent: int


@dataclass
class MirrorState:
    """What the mirror serves and how; tests change it between calls."""

    files: dict[str, bytes] = field(default_factory=dict)
    cut_after: dict[str, int] = field(default_factory=dict)
    """name → drop the connection after this many body bytes (once, then serve normally)."""
    damaged: set[str] = field(default_factory=set)
    """names served with one byte flipped."""
    requests: list[Request] = field(default_factory=list)


class ModelMirror:
    """``with ModelMirror() as mirror``: ``mirror.url`` serves ``mirror.state.files``."""

    def __init__(self) -> None:
        self.state = MirrorState()
        state = self.state

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
                pass

            def do_GET(self) -> None:  # noqa: N802 - the stdlib's name
                name = self.path.lstrip("/")
                body = state.files.get(name)
                requested = self.headers.get("Range")
                if body is None:
                    self._answer(404, b"not found", name, requested)
                    return
                if name in state.damaged:
                    body = body[:-1] + bytes([body[-1] ^ 0xFF])
                start = 0
                if requested:
                    match = _RANGE.match(requested)
                    if match is None:
                        self._answer(400, b"bad range", name, requested)
                        return
                    start = int(match.group(1))
                    if start >= len(body):
                        self.send_response(416)
                        self.send_header("Content-Range", f"bytes */{len(body)}")
                        self.send_header("Content-Length", "0")
                        self.end_headers()
                        state.requests.append(Request(name, requested, 416, 0))
                        return
                payload = body[start:]
                self.send_response(206 if requested else 200)
                if requested:
                    self.send_header("Content-Range",
                                     f"bytes {start}-{len(body) - 1}/{len(body)}")
                self.send_header("Content-Length", str(len(payload)))
                self.send_header("Accept-Ranges", "bytes")
                self.end_headers()
                cut = state.cut_after.pop(name, None)
                sent = payload if cut is None else payload[:cut]
                self.wfile.write(sent)
                self.wfile.flush()
                state.requests.append(Request(name, requested, 206 if requested else 200,
                                              len(sent)))
                if cut is not None:
                    self.close_connection = True
                    self.connection.close()

            def _answer(self, code: int, body: bytes, name: str, requested: str | None) -> None:
                self.send_response(code)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)
                state.requests.append(Request(name, requested, code, len(body)))

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        """The mirror's base URL (``models_base_url``)."""
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def bytes_sent(self, name: str) -> int:
        """Body bytes sent for ``name`` so far."""
        return sum(r.sent for r in self.state.requests if r.path == name and r.status < 300)

    def __enter__(self) -> ModelMirror:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()


def sha256(data: bytes) -> str:
    """Hex SHA-256 of bytes."""
    return hashlib.sha256(data).hexdigest()


def zip_pack(folder: Path) -> bytes:
    """The files of a pack folder zipped flat, as insightface's ``buffalo_l.zip`` is."""
    out = folder.parent / f"{folder.name}.zip.build"
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for path in sorted(folder.iterdir()):
            archive.write(path, path.name)
    data = out.read_bytes()
    out.unlink()
    return data


def manifest_for(detector: bytes | None = None, pack: Path | None = None,
                 pack_zip: bytes | None = None, *, detector_name: str = "yolo11n.onnx",
                 detector_install: str = "file") -> dict[str, Any]:
    """A manifest (as JSON data) pinning what a test serves: the hashes are the real ones."""
    files: list[dict[str, Any]] = []
    if detector is not None:
        files.append({"name": detector_name, "role": "detector", "install": detector_install,
                      "url": f"https://upstream.invalid/{detector_name}",
                      "sha256": sha256(detector), "size": len(detector)})
    if pack is not None and pack_zip is not None:
        members = {p.name: {"sha256": sha256(p.read_bytes()), "size": p.stat().st_size}
                   for p in sorted(pack.iterdir())}
        files.append({"name": f"{pack.name}.zip", "role": "faces", "install": "unzip",
                      "pack": pack.name, "url": f"https://upstream.invalid/{pack.name}.zip",
                      "sha256": sha256(pack_zip), "size": len(pack_zip),
                      "members": members})
    return {"version": 1, "files": files}


def write_manifest(path: Path, data: dict[str, Any]) -> Path:
    """Write a manifest for ``IRIS_MODELS_MANIFEST`` / ``--manifest``."""
    path.write_text(json.dumps(data))
    return path
