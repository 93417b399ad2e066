"""A TCP server that accepts every connection and then dribbles one byte a second, forever.

As a camera (``rtsp://127.0.0.1:<port>/x``) it never completes an RTSP answer, yet never lets
a socket timeout fire: only a bound on the whole open ends the wait.
"""

from __future__ import annotations

import socket
import threading
from types import TracebackType

TRICKLE = b"RTSP/1.0 200 OK\r\nCSeq: 1\r\nX-Tarpit: " + b"a" * 4096


class Tarpit:
    """Serves on 127.0.0.1; `url(path)` names it as an RTSP camera."""

    def __init__(self, interval_s: float = 1.0) -> None:
        self._listener = socket.create_server(("127.0.0.1", 0), backlog=64)
        self.port = self._listener.getsockname()[1]
        self._interval = interval_s
        self._closed = threading.Event()
        self.connections = 0

    def url(self, path: str = "x") -> str:
        return f"rtsp://127.0.0.1:{self.port}/{path}"

    def _accept(self) -> None:
        while not self._closed.is_set():
            try:
                client, _ = self._listener.accept()
            except OSError:
                return
            self.connections += 1
            threading.Thread(target=self._dribble, args=(client,), daemon=True).start()

    def _dribble(self, client: socket.socket) -> None:
        with client:
            for byte in TRICKLE:
                if self._closed.wait(self._interval):
                    return
                try:
                    client.sendall(bytes([byte]))
                except OSError:
                    return

    def __enter__(self) -> Tarpit:
        threading.Thread(target=self._accept, daemon=True).start()
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 traceback: TracebackType | None) -> None:
        self._closed.set()
        self._listener.close()
