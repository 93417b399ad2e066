"""The proxy's write-timeout guard on plain ASGI: a stream whose client stops reading is cut.

The downstream app stands in for Serve's proxy the way it behaves: it streams messages, keeps
receiving to notice a disconnect, and stops (cancelling the replica) when one comes. The client
side is an ASGI `send` that never completes, as uvicorn's does once a client stops reading.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

import pytest

from iris.serve.proxy_callback import proxy_middlewares
from iris.serve.proxy_guard import (
    SENT_AT_KEY,
    WRITE_TIMEOUT_HEADER,
    WriteTimeoutGuard,
    stamp,
    write_timeout_header,
)

SCOPE = {"type": "http", "path": "/api/live/1/stream"}


class ProxyLike:
    """Streams `parts` body messages; stops when `receive` says the client disconnected."""

    def __init__(self, parts: int, headers: dict[str, str], sent_at: float | None = None):
        self.parts = parts
        self.headers = [(k.encode(), v.encode()) for k, v in headers.items()]
        self.sent_at = sent_at
        self.sent = 0
        self.saw_disconnect = False

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        async def watch() -> None:
            while (await receive())["type"] != "http.disconnect":
                continue
            self.saw_disconnect = True

        watcher = asyncio.ensure_future(watch())
        try:
            await send({"type": "http.response.start", "status": 200, "headers": self.headers})
            for _ in range(self.parts):
                if watcher.done():
                    return  # the proxy cancels the replica's request here
                message = {"type": "http.response.body", "body": b"x" * 10, "more_body": True}
                if self.sent_at is not None:
                    message[SENT_AT_KEY] = self.sent_at
                await send(message)
                self.sent += 1
                await asyncio.sleep(0)
            await send({"type": "http.response.body", "body": b"", "more_body": False})
        finally:
            await asyncio.sleep(0)
            watcher.cancel()


class Client:
    """The uvicorn side: records what reached the socket; `reading=False` blocks every write."""

    def __init__(self, reading: bool) -> None:
        self.reading = reading
        self.messages: list[dict[str, Any]] = []
        self.hang_up = asyncio.Event()

    async def receive(self) -> dict[str, Any]:
        await self.hang_up.wait()
        return {"type": "http.disconnect"}

    async def send(self, message: dict[str, Any]) -> None:
        if message["type"] == "http.response.body" and not self.reading:
            await asyncio.Event().wait()  # the socket buffer is full, forever
        self.messages.append(message)


def run(app: ProxyLike, client: Client, timeout: float = 10) -> None:
    async def main() -> None:
        await asyncio.wait_for(WriteTimeoutGuard(app)(SCOPE, client.receive, client.send),
                               timeout)

    asyncio.run(main())


def test_a_client_that_stops_reading_is_cut_after_the_timeout() -> None:
    app = ProxyLike(parts=1000, headers=write_timeout_header(0.2))
    client = Client(reading=False)
    run(app, client)  # returns (rather than hang): the proxy learnt of a "disconnect"
    assert app.saw_disconnect
    assert app.sent < 1000
    assert [m["type"] for m in client.messages] == ["http.response.start"]


def test_a_client_that_falls_behind_is_cut_even_while_writes_complete() -> None:
    app = ProxyLike(parts=1000, headers=write_timeout_header(5), sent_at=time.time() - 60)
    client = Client(reading=True)
    run(app, client)
    assert app.saw_disconnect
    assert app.sent < 1000


def test_a_reading_client_gets_everything_without_the_private_parts() -> None:
    app = ProxyLike(parts=50, headers={"x-other": "1", **write_timeout_header(5)},
                    sent_at=time.time())
    client = Client(reading=True)
    run(app, client)
    assert not app.saw_disconnect and app.sent == 50
    start, *bodies = client.messages
    assert (b"x-other", b"1") in start["headers"]
    assert all(name.lower() != WRITE_TIMEOUT_HEADER for name, _ in start["headers"])
    assert len(bodies) == 51 and all(SENT_AT_KEY not in m for m in bodies)


def test_responses_that_do_not_opt_in_are_never_cut() -> None:
    app = ProxyLike(parts=20, headers={}, sent_at=time.time() - 3600)
    client = Client(reading=True)
    run(app, client)
    assert not app.saw_disconnect and app.sent == 20


def test_a_real_disconnect_still_reaches_the_proxy() -> None:
    app = ProxyLike(parts=10**6, headers=write_timeout_header(30))
    client = Client(reading=True)

    async def main() -> None:
        task = asyncio.ensure_future(WriteTimeoutGuard(app)(SCOPE, client.receive, client.send))
        while app.sent < 10:
            await asyncio.sleep(0)
        client.hang_up.set()
        await asyncio.wait_for(task, 10)

    asyncio.run(main())
    assert app.saw_disconnect


@pytest.mark.parametrize("value", ["abc", "-1", "0"])
def test_a_bad_timeout_header_means_no_timeout(value: str) -> None:
    app = ProxyLike(parts=20, headers={WRITE_TIMEOUT_HEADER.decode(): value},
                    sent_at=time.time() - 3600)
    client = Client(reading=True)
    run(app, client)
    assert app.sent == 20


def test_stamp_and_callback() -> None:
    message = stamp({"type": "http.response.body"})
    assert abs(message[SENT_AT_KEY] - time.time()) < 60
    from iris.serve.relay import LiveRelay

    # Serve wraps in list order: the guard outermost, bounding the relay's writes too.
    assert [m.cls for m in proxy_middlewares()] == [LiveRelay, WriteTimeoutGuard]
