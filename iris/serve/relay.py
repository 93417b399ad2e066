"""Live streams relayed by the Serve proxy itself, so their bytes skip the replica hop.

Why: a Serve replica hands every chunk it streams to the proxy as one more Ray message, once per
viewer. On this box that costs ≈0.7 ms of replica and ≈0.9 ms of proxy CPU per 100 kB MJPEG
part (bench/RESULTS.md, mjpeg), so fifty viewers cost about fifty times one. The proxy holds the
sockets: fanning out there costs a socket write per viewer and one camera poll per camera.

The protocol. The proxy marks every request it forwards with ``X-Iris-Relay-Capable: 1``
(replacing whatever a client sent). A live route that sees it does everything but the bytes —
authentication, the 404/409/503 answers, the stream caps — and answers 200 with
``X-Iris-Relay: kind=…; camera=…; namespace=…; fps=…`` and a body that sends nothing until the
client leaves, which keeps the viewer's slot held in the ingress (`relayed_body`). `LiveRelay`,
a middleware of the proxy (installed by `iris.serve.proxy_callback.proxy_middlewares`, inside the
write-timeout guard, which still bounds every write), takes the header off, sends the response
start and streams the camera's bytes from this proxy's own pollers: the same hubs the ingress
uses, one poller per camera and kind, fanned out to this proxy's viewers. When its stream ends
(the camera's stream reopened) it ends the response and tells the ingress the client left;
when the client leaves, Serve cancels the ingress's request as for any stream. Without the
request header (no Serve proxy: a test client, plain uvicorn) the routes stream the bytes
themselves.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Callable, Mapping, MutableMapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from iris.serve.limits import principal_key
from iris.serve.live import LiveStreamResponse, MjpegHub, live_hub
from iris.serve.live_sources import LiveCalls, jpeg_fetch, mse_source, overlay_fetch
from iris.serve.mse import MseHub
from iris.serve.overlays import OverlayHub
from iris.serve.proxy_guard import ASGIApp, Message, Receive, Send, receive_until, stamp

if TYPE_CHECKING:
    from starlette.requests import Request

    from iris.serve.auth import Principal
    from iris.settings import Settings

log = logging.getLogger("iris.relay")

CAPABLE_HEADER = b"x-iris-relay-capable"
RELAY_HEADER = b"x-iris-relay"
KINDS = ("mjpeg", "mse", "overlay")
MJPEG_MAX_FPS = 60.0


@dataclass(frozen=True)
class RelaySpec:
    """What the proxy relays: a kind of stream of one camera of one instance, at a rate."""

    kind: str
    camera_id: int
    namespace: str
    fps: float = 0.0

    def header(self) -> dict[str, str]:
        """The response header that hands this stream to the proxy."""
        value = (f"kind={self.kind}; camera={self.camera_id}; namespace={self.namespace}; "
                 f"fps={self.fps:g}")
        return {RELAY_HEADER.decode(): value}

    @classmethod
    def parse(cls, value: bytes) -> RelaySpec | None:
        """The spec in a header value; None when it is not one (logged)."""
        try:
            fields = dict(part.strip().split("=", 1) for part in value.decode().split(";"))
            spec = cls(fields["kind"], int(fields["camera"]), fields["namespace"],
                       float(fields.get("fps", 0)))
        except (KeyError, ValueError, UnicodeDecodeError):
            log.warning("ignoring a malformed %s header: %r", RELAY_HEADER.decode(), value)
            return None
        return spec if spec.kind in KINDS else None


def relay_capable(headers: Any) -> bool:
    """Whether the request came through a proxy that relays (Starlette `Headers`)."""
    return headers.get(CAPABLE_HEADER.decode()) == "1"


async def relayed_body() -> AsyncIterator[bytes]:
    """The ingress's side of a relayed stream: nothing, until the client leaves (Serve then
    cancels the request, which gives the viewer's slot back)."""
    await asyncio.Event().wait()
    yield b""  # never reached


def live_body(headers: Any, spec: RelaySpec,
              stream: Callable[[], AsyncIterator[bytes]]) -> tuple[AsyncIterator[bytes],
                                                                    dict[str, str]]:
    """A live route's body and extra headers: handed to the proxy when the request came
    through one that relays (`headers` are the request's), else `stream()` from here."""
    if relay_capable(headers):
        return relayed_body(), spec.header()
    return stream(), {}


def live_response(request: Request, settings: Settings, principal: Principal, spec: RelaySpec,
                  stream: Callable[[], AsyncIterator[bytes]], *, media_type: str,
                  headers: Mapping[str, str]) -> LiveStreamResponse:
    """A live route's answer: the viewer's slot taken (503 or 429 with Retry-After when the
    caps say no), the body relayed by the proxy or streamed from here (`live_body`), and
    writes bounded by `live_write_timeout_seconds`."""
    slot = live_hub(request, settings).slots.acquire(principal_key(principal))
    body, relay = live_body(request.headers, spec, stream)
    return LiveStreamResponse(body, slot, write_timeout_s=settings.live_write_timeout_seconds,
                              media_type=media_type, headers={**headers, **relay})


class RelayHubs:
    """This proxy's pollers, per instance (namespace) and kind, over `calls_for(namespace)`."""

    def __init__(self, calls_for: Callable[[str], LiveCalls]) -> None:
        self._calls_for = calls_for
        self._calls: dict[str, LiveCalls] = {}
        self._mse: dict[str, MseHub] = {}
        self._overlays: dict[str, OverlayHub] = {}
        self._mjpeg: dict[str, MjpegHub] = {}

    def calls(self, namespace: str) -> LiveCalls:
        if namespace not in self._calls:
            self._calls[namespace] = self._calls_for(namespace)
        return self._calls[namespace]

    async def stream(self, spec: RelaySpec) -> AsyncIterator[bytes]:
        """The bytes of `spec`'s stream, as the ingress would have sent them."""
        calls = self.calls(spec.namespace)
        if spec.kind == "mse":
            hub = self._mse.setdefault(spec.namespace, MseHub())
            chunks = hub.stream(spec.camera_id, mse_source(calls, spec.camera_id))
        elif spec.kind == "overlay":
            overlays = self._overlays.setdefault(spec.namespace, OverlayHub())
            chunks = overlays.stream(spec.camera_id, overlay_fetch(calls, spec.camera_id))
        else:
            from iris.serve.placeholder import no_signal_jpeg

            # The ingress clamped the rate to the instance's cap already.
            mjpeg = self._mjpeg.setdefault(spec.namespace, MjpegHub(MJPEG_MAX_FPS))
            chunks = mjpeg.stream(spec.camera_id, jpeg_fetch(calls, spec.camera_id),
                                  spec.fps or None, no_signal_jpeg())
        async for chunk in chunks:
            yield chunk


_process_hubs: RelayHubs | None = None


def process_hubs() -> RelayHubs:
    """The hubs of this proxy process, reaching cameras over Ray (created on first use)."""
    global _process_hubs
    if _process_hubs is None:
        from iris.serve.live_calls import CameraCalls

        _process_hubs = RelayHubs(CameraCalls)
    return _process_hubs


class LiveRelay:
    """ASGI middleware for the Serve proxy: streams relayed live responses from here."""

    def __init__(self, app: ASGIApp, hubs: Callable[[], RelayHubs] = process_hubs) -> None:
        self.app = app
        self._hubs = hubs

    async def __call__(self, scope: MutableMapping[str, Any], receive: Receive,
                       send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = [(name, value) for name, value in scope.get("headers", [])
                   if bytes(name).lower() != CAPABLE_HEADER]
        scope = {**scope, "headers": [*headers, (CAPABLE_HEADER, b"1")]}
        await _RelayedExchange(scope, receive, send, self._hubs).run(self.app)


class _RelayedExchange:
    """One request: forwarded as is, unless its response hands the stream to us."""

    def __init__(self, scope: MutableMapping[str, Any], receive: Receive, send: Send,
                 hubs: Callable[[], RelayHubs]) -> None:
        self.scope = scope
        self._receive = receive
        self._send = send
        self._hubs = hubs
        self._relay: asyncio.Task[None] | None = None
        self._finished = False  # the client's response is complete
        self._ended = asyncio.Event()  # our stream ended: the ingress must let go too

    async def run(self, app: ASGIApp) -> None:
        try:
            await app(self.scope, self.receive, self.send)
        finally:
            relay = self._relay
            if relay is not None and not relay.done():
                relay.cancel()
                await asyncio.gather(relay, return_exceptions=True)

    async def receive(self) -> Message:
        """The client's messages, or a disconnect once the relayed stream has ended."""
        return await receive_until(self._receive, self._ended)

    async def send(self, message: Message) -> None:
        if self._relay is not None:  # relaying: the ingress's own body is empty
            if message["type"] == "http.response.body" and not message.get("more_body"):
                await self._stop_relay()  # the ingress ended the response (shutting down)
                await self._finish()
            return
        if message["type"] == "http.response.start":
            spec = _take_spec(message)
            if spec is not None:
                await self._send(message)
                self._relay = asyncio.get_running_loop().create_task(self._stream(spec))
                return
        await self._send(message)

    async def _stream(self, spec: RelaySpec) -> None:
        try:
            async for chunk in self._hubs().stream(spec):
                await self._send(stamp({"type": "http.response.body", "body": chunk,
                                        "more_body": True}))
        except asyncio.CancelledError:
            raise
        except Exception:  # noqa: BLE001 - one viewer's stream, never the proxy
            log.exception("relaying %s of camera %s failed", spec.kind, spec.camera_id)
        await self._finish()

    async def _stop_relay(self) -> None:
        relay = self._relay
        if relay is not None and not relay.done() and relay is not asyncio.current_task():
            relay.cancel()
            await asyncio.gather(relay, return_exceptions=True)

    async def _finish(self) -> None:
        if not self._finished:
            self._finished = True
            await self._send({"type": "http.response.body", "body": b"", "more_body": False})
        self._ended.set()


def _take_spec(start: Message) -> RelaySpec | None:
    """Remove the relay header from a response start; the spec it carried, if any."""
    spec: RelaySpec | None = None
    kept = []
    for name, value in start.get("headers", []):
        if bytes(name).lower() == RELAY_HEADER:
            spec = RelaySpec.parse(bytes(value))
            continue
        kept.append((name, value))
    start["headers"] = kept
    return spec
