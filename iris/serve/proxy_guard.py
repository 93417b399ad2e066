"""Write timeouts for streamed responses, enforced in Serve's HTTP proxy (no Ray import).

Why in the proxy: a Serve replica hands each ASGI message to Serve, which forwards it to the
proxy with no backpressure, so the ingress never learns that a client stopped reading. The
proxy's socket write blocks, and everything the ingress keeps producing piles up in the proxy's
memory (measured on Ray 2.60: a client that connected and never read kept 1 MB/s of stream
flowing to the proxy for as long as it stayed connected). The proxy is where the socket is.

The protocol: a response opts in with the header `X-Iris-Write-Timeout: <seconds>` (removed
before the client sees it), and each body message may carry `iris.sent_at`, the `time.time()` at
which the ingress produced it. The stream is closed when one write to the client blocks longer
than the timeout, or when the client has fallen that far behind (a slow reader buffers as surely
as a stopped one). Closing tells the proxy the client disconnected, which cancels the ingress's
request exactly as a real disconnect does, and drops whatever is still queued; the proxy then
returns without finishing the response, so uvicorn closes the connection.

`iris.serve.proxy_callback` installs the guard in every proxy.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

log = logging.getLogger("iris.proxy")

Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[MutableMapping[str, Any], Receive, Send], Awaitable[None]]

WRITE_TIMEOUT_HEADER = b"x-iris-write-timeout"
SENT_AT_KEY = "iris.sent_at"

_DISCONNECT: Message = {"type": "http.disconnect"}


async def receive_until(receive: Receive, cut: asyncio.Event) -> Message:
    """The client's next message from `receive`, or a disconnect once `cut` is set."""
    if cut.is_set():
        return dict(_DISCONNECT)
    incoming = asyncio.ensure_future(receive())
    ended = asyncio.ensure_future(cut.wait())
    done, _ = await asyncio.wait({incoming, ended}, return_when=asyncio.FIRST_COMPLETED)
    if incoming in done:
        ended.cancel()
        return incoming.result()
    incoming.cancel()
    return dict(_DISCONNECT)


def write_timeout_header(seconds: float) -> dict[str, str]:
    """The response header that asks the proxy to bound this stream's writes."""
    return {WRITE_TIMEOUT_HEADER.decode(): f"{seconds:g}"}


def stamp(message: Message) -> Message:
    """Mark a body message with when it was produced (the guard measures the client's lag)."""
    message[SENT_AT_KEY] = time.time()
    return message


class WriteTimeoutGuard:
    """ASGI middleware for the proxy: closes opted-in streams whose client stops reading."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: MutableMapping[str, Any], receive: Receive,
                       send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        await _GuardedExchange(scope, receive, send).run(self.app)


class _GuardedExchange:
    """One request: its timeout (once the response declares it) and whether it was cut."""

    def __init__(self, scope: MutableMapping[str, Any], receive: Receive, send: Send) -> None:
        self.scope = scope
        self._receive = receive
        self._send = send
        self.timeout: float | None = None
        self.stalled = asyncio.Event()

    async def run(self, app: ASGIApp) -> None:
        await app(self.scope, self.receive, self.send)

    async def receive(self) -> Message:
        """The client's messages, or a disconnect as soon as the stream is cut."""
        return await receive_until(self._receive, self.stalled)

    async def send(self, message: Message) -> None:
        """Forward `message`; past the timeout, cut the stream and drop the rest."""
        if self.stalled.is_set():
            return
        sent_at = message.pop(SENT_AT_KEY, None)
        if message["type"] == "http.response.start":
            self.timeout = _take_timeout(message)
        if self.timeout is None:
            await self._send(message)
            return
        lag = max(0.0, time.time() - sent_at) if isinstance(sent_at, float) else 0.0
        budget = self.timeout - lag
        try:
            if budget <= 0:
                raise TimeoutError
            await asyncio.wait_for(self._send(message), budget)
        except TimeoutError:
            log.warning("%s: the client has not kept up for %gs; closing the stream",
                        self.scope.get("path", "?"), self.timeout)
            self.stalled.set()


def _take_timeout(start: Message) -> float | None:
    """Remove the opt-in header from a response start; its value in seconds, if valid."""
    timeout: float | None = None
    kept = []
    for name, value in start.get("headers", []):
        if bytes(name).lower() == WRITE_TIMEOUT_HEADER:
            try:
                timeout = float(bytes(value))
            except ValueError:
                timeout = None
            continue
        kept.append((name, value))
    start["headers"] = kept
    return timeout if timeout is not None and timeout > 0 else None
