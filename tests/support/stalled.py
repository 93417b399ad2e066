"""A client that asks for a stream, reads the response head, and then never reads again."""

from __future__ import annotations

import socket
from urllib.parse import urlsplit


def stalled_request(url: str, headers: dict[str, str]) -> tuple[socket.socket, bytes]:
    """Send `GET url` on a socket with a tiny receive window; (the socket, the response head).

    The window fills within a few kilobytes, so the server's writes block from then on, as they
    do for a viewer on a dead link or one that simply stopped reading.
    """
    parts = urlsplit(url)
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    sock.connect((parts.hostname or "127.0.0.1", parts.port or 80))
    lines = [f"GET {parts.path} HTTP/1.1", f"Host: {parts.netloc}",
             *(f"{name}: {value}" for name, value in headers.items()), "", ""]
    sock.sendall("\r\n".join(lines).encode())
    head = b""
    while b"\r\n\r\n" not in head:
        chunk = sock.recv(1)
        if not chunk:
            break
        head += chunk
    return sock, head


def drain(sock: socket.socket, timeout: float) -> int:
    """Read what the server left in the connection until it closes it; the byte count.

    Raises:
        TimeoutError: the server kept the connection open for `timeout` seconds.
    """
    sock.settimeout(timeout)
    total = 0
    while chunk := sock.recv(1 << 16):
        total += len(chunk)
    return total

