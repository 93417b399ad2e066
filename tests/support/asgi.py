"""One request to an ASGI app, read up to its first body part: streams included.

Starlette's `TestClient` waits for a response to finish, so it never returns from a live
stream (MJPEG, MSE, server-sent events). `AsgiCaller` sends the request, keeps the status,
headers and body up to the first part of a streaming answer, then tells the app the client
went away, as a browser closing a tab does, and waits for the app to end.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import anyio
from anyio.from_thread import BlockingPortal, start_blocking_portal
from starlette.types import ASGIApp, Message

ENDS_WITHIN_S = 10.0
"""How long an app may take to end once the client left (a bound, not a synchronisation)."""


@dataclass(frozen=True)
class Answer:
    """What the app answered: the status, the headers, the body (or its first part)."""

    status: int
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)

    @property
    def detail(self) -> Any:
        """The JSON `detail`, or None when the body is no JSON object."""
        try:
            data = self.json()
        except ValueError:
            return None
        return data.get("detail") if isinstance(data, dict) else None


class AsgiCaller:
    """Requests to one app, run on one event loop (the app's state outlives a request)."""

    def __init__(self, app: ASGIApp, portal: BlockingPortal,
                 base_url: str = "http://127.0.0.1") -> None:
        self.app = app
        self.portal = portal
        self.host = urlsplit(base_url).netloc

    def request(self, method: str, path: str, *, headers: Mapping[str, str] | None = None,
                json_body: Any = None) -> Answer:
        """`method path` (a query string may follow `?`) with `headers` and a JSON body."""
        return self.portal.call(self._request, method, path, dict(headers or {}), json_body)

    async def _request(self, method: str, path: str, headers: dict[str, str],
                       json_body: Any) -> Answer:
        target, _, query = path.partition("?")
        body = b"" if json_body is None else json.dumps(json_body).encode()
        raw = [(b"host", self.host.encode())]
        raw += [(k.lower().encode(), v.encode()) for k, v in headers.items()]
        if json_body is not None:
            raw += [(b"content-type", b"application/json"),
                    (b"content-length", str(len(body)).encode())]
        scope = {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1",
                 "method": method, "scheme": "http", "path": target,
                 "raw_path": target.encode(), "query_string": query.encode(), "root_path": "",
                 "headers": raw, "client": ("127.0.0.1", 50000),
                 "server": ("127.0.0.1", 80)}
        state: dict[str, Any] = {"status": 0, "headers": {}, "body": b""}
        answered, ended = anyio.Event(), anyio.Event()
        request_sent = False

        async def receive() -> Message:
            nonlocal request_sent
            if not request_sent:
                request_sent = True
                return {"type": "http.request", "body": body, "more_body": False}
            await answered.wait()
            return {"type": "http.disconnect"}

        async def send(message: Message) -> None:
            if message["type"] == "http.response.start":
                state["status"] = message["status"]
                state["headers"] = {k.decode().lower(): v.decode()
                                    for k, v in message.get("headers", [])}
            elif message["type"] == "http.response.body":
                state["body"] += message.get("body", b"")
                if not message.get("more_body") or state["body"]:
                    answered.set()  # done, or a stream's first part: enough to judge

        async def run() -> None:
            try:
                await self.app(scope, receive, send)
            finally:
                answered.set()
                ended.set()

        async with anyio.create_task_group() as group:
            group.start_soon(run)
            await answered.wait()
            with anyio.move_on_after(ENDS_WITHIN_S):
                await ended.wait()
            group.cancel_scope.cancel()  # a stream that ignored the disconnect
        return Answer(state["status"], state["headers"], state["body"])


@contextmanager
def asgi_caller(app: ASGIApp) -> Iterator[AsgiCaller]:
    """An `AsgiCaller` of `app` on its own event loop thread."""
    with start_blocking_portal() as portal:
        yield AsgiCaller(app, portal)
