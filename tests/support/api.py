"""The FastAPI app in-process, as a client on loopback sees it (no Ray, no proxy)."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from fastapi.testclient import TestClient

#: The app answers only hosts it trusts (DNS-rebinding guard): loopback, as `iris up` serves.
LOOPBACK = "http://127.0.0.1"


def api_client(app: FastAPI, **kwargs: Any) -> TestClient:
    """A `TestClient` of `app` addressed to 127.0.0.1 (TestClient's `testserver` is refused)."""
    return TestClient(app, base_url=LOOPBACK, **kwargs)
