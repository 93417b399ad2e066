"""A local HTTP(S) server that records webhook POSTs (for tests): answers 200 unless told
otherwise, on the address it is given (loopback by default), optionally holding requests."""

from __future__ import annotations

import http.server
import threading
from dataclasses import dataclass
from types import TracebackType

from tests.support.tls import Certificate


@dataclass(frozen=True)
class Received:
    path: str
    headers: dict[str, str]
    body: bytes


class WebhookReceiver:
    """Records every POST; answers the statuses of `answers` in turn, then 200. While `hold` is
    set, requests wait (up to 30 s) until `release`. With a certificate it speaks HTTPS."""

    def __init__(self, host: str = "127.0.0.1", certificate: Certificate | None = None) -> None:
        self.host = host
        self.requests: list[Received] = []
        self.answers: list[int] = []
        self.hold = threading.Event()
        self._released = threading.Event()
        receiver = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 - http.server API
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                receiver.requests.append(Received(self.path, dict(self.headers), body))
                if receiver.hold.is_set():
                    receiver._released.wait(30)
                status = receiver.answers.pop(0) if receiver.answers else 200
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *_args: object) -> None:
                return

        self._server = http.server.ThreadingHTTPServer((host, 0), Handler)
        if certificate is not None:
            self._server.socket = certificate.server_context().wrap_socket(
                self._server.socket, server_side=True)
        self.port = int(self._server.server_address[1])
        threading.Thread(target=self._server.serve_forever, daemon=True).start()

    def url(self, path: str = "/api/webhook/secret-id-42", host: str | None = None,
            scheme: str = "http") -> str:
        """The URL of `path` on this server, by `host` (default: the address it listens on)."""
        host = host or self.host
        host = f"[{host}]" if ":" in host else host
        return f"{scheme}://{host}:{self.port}{path}"

    def release(self) -> None:
        self.hold.clear()
        self._released.set()

    def close(self) -> None:
        self.release()
        self._server.shutdown()
        self._server.server_close()

    def __enter__(self) -> WebhookReceiver:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 traceback: TracebackType | None) -> None:
        self.close()
