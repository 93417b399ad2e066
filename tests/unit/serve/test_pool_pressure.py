"""Many clients at once on the sync routes: the connection pool and the worker threads that
FastAPI's sync routes share must not wait on each other.

A sync route's session holds its pooled connection until the route's answer is serialised, and
that serialisation needs a worker thread; with more clients than threads, every thread could
wait for a connection that a session waiting for a thread held: no answer for the pool's
30 s timeout, then errors (seen in the load bench's uvicorn baseline: 3.5 req/s, 200 timeouts).
"""

from __future__ import annotations

import asyncio
from pathlib import Path

import httpx

from tests.support.api import LOOPBACK
from tests.support.runtime import FakeRuntime
from tests.unit.serve.conftest import AUTH, make_app

CLIENTS = 200  # five times the worker threads (anyio's default 40)
BOUND_S = 120.0  # a bound on the whole burst, not a synchronisation


def test_more_clients_than_threads_all_get_their_answer(tmp_path: Path) -> None:
    app = make_app(tmp_path, FakeRuntime())

    async def burst() -> list[int]:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url=LOOPBACK,
                                     headers=AUTH) as client:
            calls = [client.get("/api/events", params={"limit": 5}) for _ in range(CLIENTS)]
            answers = await asyncio.wait_for(asyncio.gather(*calls), BOUND_S)
        return [answer.status_code for answer in answers]

    assert asyncio.run(burst()) == [200] * CLIENTS
