"""The proxy's live relay, around a stand-in for Serve's proxy app (no Ray, no sockets)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

from iris.serve.relay import CAPABLE_HEADER, LiveRelay, RelaySpec, live_body, relay_capable

SPEC = RelaySpec("mse", 7, "iris")


class FakeHubs:
    """Streams whatever the test puts in `chunks`; None ends the stream."""

    def __init__(self) -> None:
        self.chunks: asyncio.Queue[bytes | None] = asyncio.Queue()
        self.specs: list[RelaySpec] = []
        self.closed = asyncio.Event()

    async def stream(self, spec: RelaySpec) -> AsyncIterator[bytes]:
        self.specs.append(spec)
        try:
            while (chunk := await self.chunks.get()) is not None:
                yield chunk
        finally:
            self.closed.set()


class ServeProxy:
    """Like Serve's proxy app: forwards the ingress's answer, ends when the client leaves."""

    def __init__(self, headers: list[tuple[bytes, bytes]], body: list[bytes]) -> None:
        self.headers = headers
        self.body = body
        self.scope: dict[str, Any] = {}
        self.disconnected = asyncio.Event()

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        self.scope = dict(scope)
        await send({"type": "http.response.start", "status": 200, "headers": self.headers})
        for chunk in self.body:
            await send({"type": "http.response.body", "body": chunk, "more_body": True})
        if self.body:
            await send({"type": "http.response.body", "body": b"", "more_body": False})
            return
        while (await receive())["type"] != "http.disconnect":
            continue
        self.disconnected.set()


class Client:
    """The connection: what the proxy sent it, and a way to hang up."""

    def __init__(self, request_headers: list[tuple[bytes, bytes]] | None = None) -> None:
        self.sent: list[dict[str, Any]] = []
        self.gone = asyncio.Event()
        self.scope = {"type": "http", "path": "/api/live/7/mse",
                      "headers": request_headers or []}

    async def receive(self) -> dict[str, Any]:
        await self.gone.wait()
        return {"type": "http.disconnect"}

    async def send(self, message: dict[str, Any]) -> None:
        self.sent.append(message)

    @property
    def body(self) -> bytes:
        return b"".join(m.get("body", b"") for m in self.sent if m["type"] == "http.response.body")

    @property
    def complete(self) -> bool:
        return any(m["type"] == "http.response.body" and not m.get("more_body")
                   for m in self.sent)


async def until(predicate: Any) -> None:
    for _ in range(500):
        if predicate():
            return
        await asyncio.sleep(0.01)
    raise AssertionError("condition not met in time")


def relayed_answer() -> list[tuple[bytes, bytes]]:
    headers = [(k.encode(), v.encode()) for k, v in SPEC.header().items()]
    return [(b"content-type", b"video/mp4"), *headers]


def test_a_relayed_stream_is_sent_by_the_proxy_and_the_header_never_leaves() -> None:
    async def main() -> None:
        hubs, client = FakeHubs(), Client([(CAPABLE_HEADER, b"0"), (b"host", b"x")])
        proxy = ServeProxy(relayed_answer(), body=[])
        relay = LiveRelay(proxy, hubs=lambda: hubs)  # type: ignore[arg-type]
        task = asyncio.create_task(relay(client.scope, client.receive, client.send))
        await until(lambda: client.sent)
        start = client.sent[0]
        assert start["type"] == "http.response.start"
        assert start["headers"] == [(b"content-type", b"video/mp4")]
        # The ingress learned the proxy relays, whatever the client claimed.
        assert [v for k, v in proxy.scope["headers"] if k == CAPABLE_HEADER] == [b"1"]
        for chunk in (b"init", b"frag1", b"frag2"):
            await hubs.chunks.put(chunk)
        await until(lambda: client.body == b"initfrag1frag2")
        assert hubs.specs == [SPEC]
        assert all("iris.sent_at" in m for m in client.sent[1:])  # the guard measures lag
        client.gone.set()  # the viewer leaves: Serve's proxy lets go, the relay stops
        await asyncio.wait_for(task, 5)
        assert hubs.closed.is_set() and not client.complete

    asyncio.run(main())


def test_when_the_cameras_stream_ends_the_response_ends_and_the_ingress_lets_go() -> None:
    async def main() -> None:
        hubs, client = FakeHubs(), Client()
        proxy = ServeProxy(relayed_answer(), body=[])
        task = asyncio.create_task(LiveRelay(proxy, hubs=lambda: hubs)(  # type: ignore[arg-type]
            client.scope, client.receive, client.send))
        await hubs.chunks.put(b"init")
        await hubs.chunks.put(None)  # the camera's epoch ended
        await asyncio.wait_for(task, 5)
        assert client.body == b"init" and client.complete
        assert proxy.disconnected.is_set()  # told the client left: its slot comes back

    asyncio.run(main())


def test_other_responses_pass_through_untouched() -> None:
    async def main() -> None:
        hubs, client = FakeHubs(), Client()
        proxy = ServeProxy([(b"content-type", b"application/json")], body=[b"{}"])
        await LiveRelay(proxy, hubs=lambda: hubs)(  # type: ignore[arg-type]
            client.scope, client.receive, client.send)
        assert client.sent[0]["headers"] == [(b"content-type", b"application/json")]
        assert client.body == b"{}" and client.complete and not hubs.specs

    asyncio.run(main())


def test_routes_stream_themselves_without_a_relaying_proxy() -> None:
    async def stream() -> AsyncIterator[bytes]:
        yield b"bytes"

    body, headers = live_body({}, SPEC, stream)
    assert headers == {} and not relay_capable({})
    relayed, relay_headers = live_body({CAPABLE_HEADER.decode(): "1"}, SPEC, stream)
    assert RelaySpec.parse(relay_headers["x-iris-relay"].encode()) == SPEC
    assert RelaySpec.parse(b"kind=exec; camera=1; namespace=x") is None
    for generator in (body, relayed):
        asyncio.run(generator.aclose())  # type: ignore[attr-defined]
