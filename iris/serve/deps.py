"""FastAPI dependency aliases shared by every router.

`require_auth` (every /api route's) resolves the caller and applies `iris.serve.access`; the
engine, sessions and runtime a route gets are then the caller's view: limited to the cameras
the caller may see.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy.engine import Engine
from sqlmodel import Session

from iris.db.engine import ROUTE_SESSIONS
from iris.db.keys import camera_list, key_for_token
from iris.db.scope import scoped_engine
from iris.serve.access import check_access, scoped_runtime
from iris.serve.auth import KeyLookup, Principal, authenticate
from iris.serve.runtime import Runtime
from iris.settings import Settings

PRINCIPAL_STATE = "principal"


def get_settings(request: Request) -> Settings:
    return request.app.state.settings  # type: ignore[no-any-return]


def stored_keys(engine: Engine) -> KeyLookup:
    """Bearer tokens looked up among the keys of `iris.db.keys`."""

    def find(token: str) -> Principal | None:
        with Session(engine) as session:
            key = key_for_token(session, token=token)
        if key is None:
            return None
        cameras = camera_list(key)
        return Principal(email=None, name=key.name, via="api_key",
                         role="admin" if key.role == "admin" else "viewer",
                         cameras=frozenset(cameras) if cameras is not None else None)

    return find


def require_auth(
    request: Request, settings: Annotated[Settings, Depends(get_settings)]
) -> Principal:
    """Every /api route depends on this (the contract's `require_user`): who is calling, and
    may they call this route (403) for this camera (404)."""
    principal = authenticate(request, settings, stored_keys(request.app.state.engine))
    check_access(request, principal)
    setattr(request.state, PRINCIPAL_STATE, principal)
    return principal


def get_engine(request: Request, principal: Annotated[Principal, Depends(require_auth)]
               ) -> Engine:
    """The database as the caller sees it (only their cameras' rows)."""
    return scoped_engine(request.app.state.engine, principal.cameras)


def get_runtime(request: Request) -> Runtime:
    """The running system as the caller sees it (/health has no caller: all of it)."""
    runtime: Runtime = request.app.state.runtime
    principal = getattr(request.state, PRINCIPAL_STATE, None)
    return scoped_runtime(runtime, principal.cameras) if principal is not None else runtime


def get_session(engine: Annotated[Engine, Depends(get_engine)]) -> Iterator[Session]:
    with Session(engine, expire_on_commit=False) as session:
        yield session


def get_root(settings: Annotated[Settings, Depends(get_settings)]) -> Path:
    return settings.root


SettingsDep = Annotated[Settings, Depends(get_settings)]
# A route's session closes once its answer is built, before the body is sent, and no more than
# ROUTE_SESSIONS are open at once (the rest wait without a thread): with the pool sized for them
# and every route thread (iris.db.engine), no thread waits on a connection a session holds.
SessionDep = Annotated[Session, Depends(get_session, scope="function",
                                        max_concurrency=ROUTE_SESSIONS)]
EngineDep = Annotated[Engine, Depends(get_engine)]  # long-lived responses: no pooled session
RuntimeDep = Annotated[Runtime, Depends(get_runtime)]
CurrentUser = Annotated[Principal, Depends(require_auth)]
RootDep = Annotated[Path, Depends(get_root)]
