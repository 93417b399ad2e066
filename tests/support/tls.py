"""TLS test servers with a self-signed certificate: HTTPS files and an RTSPS front to RTSP."""

from __future__ import annotations

import http.server
import socket
import ssl
import subprocess
import threading
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from types import TracebackType


@dataclass(frozen=True)
class Certificate:
    """A self-signed certificate for localhost/127.0.0.1 and its key (PEM files)."""

    cert: Path
    key: Path

    def server_context(self) -> ssl.SSLContext:
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(self.cert, self.key)
        return context


def self_signed(folder: Path) -> Certificate:
    """Generate a one-day self-signed certificate with openssl."""
    folder.mkdir(parents=True, exist_ok=True)
    cert, key = folder / "cert.pem", folder / "key.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
         "-keyout", str(key), "-out", str(cert), "-subj", "/CN=localhost",
         "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1"],
        check=True, capture_output=True, timeout=60)
    return Certificate(cert, key)


class _Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:  # noqa: A002 - stdlib name
        pass

    def do_GET(self) -> None:
        if self.path.startswith("/redirect/"):  # /redirect/<name> → /<name>
            self.send_response(302)
            self.send_header("Location", "/" + self.path.split("/", 2)[2])
            self.end_headers()
            return
        super().do_GET()


class FileServer:
    """Serves `folder` over HTTP (or HTTPS with `certificate`) on 127.0.0.1.

    ``/redirect/<name>`` answers 302 to ``/<name>``.
    """

    def __init__(self, folder: Path, certificate: Certificate | None = None) -> None:
        handler = partial(_Quiet, directory=str(folder))
        self._server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
        if certificate is not None:
            self._server.socket = certificate.server_context().wrap_socket(
                self._server.socket, server_side=True)
        self.scheme = "https" if certificate is not None else "http"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    def url(self, path: str) -> str:
        return f"{self.scheme}://127.0.0.1:{self._server.server_address[1]}/{path}"

    def __enter__(self) -> FileServer:
        self._thread.start()
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 traceback: TracebackType | None) -> None:
        self._server.shutdown()
        self._server.server_close()


class TlsFront:
    """Terminates TLS on 127.0.0.1:<port> and relays the bytes to a plain TCP port.

    In front of the RTSP test camera it makes an ``rtsps://`` camera (RTSP interleaved over
    TCP passes through a byte relay unchanged).
    """

    def __init__(self, certificate: Certificate, target_port: int) -> None:
        self._context = certificate.server_context()
        self._target = target_port
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.port = self._listener.getsockname()[1]
        self._closed = threading.Event()
        self._sockets: list[socket.socket] = []

    def _serve(self) -> None:
        while not self._closed.is_set():
            try:
                client, _ = self._listener.accept()
            except OSError:
                return
            try:
                secure = self._context.wrap_socket(client, server_side=True)
            except (ssl.SSLError, OSError):  # a client that refused our certificate
                client.close()
                continue
            upstream = socket.create_connection(("127.0.0.1", self._target))
            self._sockets += [secure, upstream]
            for source, sink in ((secure, upstream), (upstream, secure)):
                threading.Thread(target=_pump, args=(source, sink), daemon=True).start()

    def __enter__(self) -> TlsFront:
        threading.Thread(target=self._serve, daemon=True).start()
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 traceback: TracebackType | None) -> None:
        self._closed.set()
        self._listener.close()
        for sock in self._sockets:
            sock.close()


def _pump(source: socket.socket, sink: socket.socket) -> None:
    try:
        while data := source.recv(65536):
            sink.sendall(data)
    except OSError:
        pass
    finally:
        for sock in (source, sink):
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
