"""Caps on live streams and HLS sessions, in all and per principal (no Ray, no HTTP server)."""

from __future__ import annotations

import asyncio
import gc
from collections.abc import AsyncIterator
from typing import Any

import pytest

from iris.serve.auth import Principal
from iris.serve.limits import LimitReached, PrincipalSessions, StreamSlots, principal_key
from iris.serve.live import LiveStreamResponse
from iris.serve.proxy_guard import SENT_AT_KEY, WRITE_TIMEOUT_HEADER


def test_principal_is_the_email_then_the_name_then_the_way_in() -> None:
    assert principal_key(Principal(email="ada@example.com", name="ada", via="sso")) == \
        "ada@example.com"
    assert principal_key(Principal(email=None, name="api-key", via="api_key")) == "api-key"
    assert principal_key(Principal(email=None, name=None, via="anonymous")) == "anonymous"


def test_stream_slots_cap_each_principal_with_429() -> None:
    slots = StreamSlots(total=10, per_principal=2)
    held = [slots.acquire("ada"), slots.acquire("ada")]
    with pytest.raises(LimitReached) as refused:
        slots.acquire("ada")
    assert refused.value.status_code == 429
    assert "live_max_viewers_per_principal" in refused.value.detail
    assert refused.value.headers == {"Retry-After": "5"}
    slots.acquire("bob")  # others still get theirs
    held[0].release()
    held[0].release()  # idempotent: one release per slot
    slots.acquire("ada")
    assert slots.held("ada") == 2 and slots.open == 3


def test_stream_slots_cap_the_server_with_503() -> None:
    slots = StreamSlots(total=2, per_principal=2)
    first = slots.acquire("ada")
    slots.acquire("bob")
    with pytest.raises(LimitReached) as refused:
        slots.acquire("carol")
    assert refused.value.status_code == 503
    assert "live_max_viewers" in refused.value.detail
    assert refused.value.headers == {"Retry-After": "5"}
    first.release()
    slots.acquire("carol")


async def _parts(count: int) -> AsyncIterator[bytes]:
    for _ in range(count):
        yield b"part"


def _response(slots: StreamSlots) -> LiveStreamResponse:
    return LiveStreamResponse(_parts(3), slots.acquire("ada"), write_timeout_s=15,
                              media_type="multipart/x-mixed-replace; boundary=b")


def test_a_stream_gives_its_slot_back_when_it_ends_and_stamps_its_parts() -> None:
    slots = StreamSlots(total=1, per_principal=1)
    response = _response(slots)
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        await asyncio.Event().wait()
        return {}

    async def send(message: dict[str, Any]) -> None:
        sent.append(dict(message))

    scope = {"type": "http", "asgi": {"spec_version": "2.4"}}
    asyncio.run(response(scope, receive, send))
    assert slots.open == 0
    start, *bodies = sent
    assert (WRITE_TIMEOUT_HEADER, b"15") in start["headers"]
    assert all(isinstance(m[SENT_AT_KEY], float) for m in bodies)


def test_a_stream_never_sent_gives_its_slot_back() -> None:
    slots = StreamSlots(total=1, per_principal=1)
    response = _response(slots)
    assert slots.open == 1
    del response  # e.g. the request was cancelled between the route and the send
    gc.collect()
    assert slots.open == 0


def test_hls_sessions_cap_each_principal_and_lapse_when_idle() -> None:
    now = [1000.0]
    sessions = PrincipalSessions(per_principal=2, idle_s=30, clock=lambda: now[0])
    assert sessions.claim("ada", 1) is True
    assert sessions.claim("ada", 2) is True
    assert sessions.claim("ada", 1) is False  # the player polling its playlist
    with pytest.raises(LimitReached) as refused:
        sessions.claim("ada", 3)
    assert refused.value.status_code == 429
    assert "hls_max_sessions_per_principal" in refused.value.detail
    assert sessions.claim("bob", 3) is True  # another principal has a share of its own
    now[0] += 20
    sessions.claim("ada", 2)  # camera 2 keeps being watched, camera 1 does not
    now[0] += 15
    assert sessions.watching("ada") == {2}
    assert sessions.claim("ada", 3) is True
    sessions.release("ada", 3)
    assert sessions.watching("ada") == {2}


def test_claims_on_sessions_closed_elsewhere_are_forgotten() -> None:
    """A camera deleted while watched closes its session without the viewer's close call."""
    sessions = PrincipalSessions(per_principal=2, idle_s=30, clock=lambda: 100.0)
    sessions.claim("ann", 1)
    sessions.claim("ann", 2)
    assert sessions.would_exceed("ann", 3)
    sessions.keep_only("ann", {2, 7})  # camera 1's session is gone
    assert not sessions.would_exceed("ann", 3)
    assert sessions.claim("ann", 3) is True
    assert sessions.watching("ann") == {2, 3}
