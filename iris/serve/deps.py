"""FastAPI dependency aliases shared by every router."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy.engine import Engine
from sqlmodel import Session

from iris.serve.auth import Principal, authenticate
from iris.serve.runtime import Runtime
from iris.settings import Settings


def get_settings(request: Request) -> Settings:
    return request.app.state.settings  # type: ignore[no-any-return]


def get_engine(request: Request) -> Engine:
    return request.app.state.engine  # type: ignore[no-any-return]


def get_runtime(request: Request) -> Runtime:
    return request.app.state.runtime  # type: ignore[no-any-return]


def get_session(engine: Annotated[Engine, Depends(get_engine)]) -> Iterator[Session]:
    with Session(engine, expire_on_commit=False) as session:
        yield session


def require_auth(
    request: Request, settings: Annotated[Settings, Depends(get_settings)]
) -> Principal:
    """Every /api route depends on this (the contract's `require_user`)."""
    return authenticate(request, settings)


def get_root(settings: Annotated[Settings, Depends(get_settings)]) -> Path:
    return settings.root


SettingsDep = Annotated[Settings, Depends(get_settings)]
SessionDep = Annotated[Session, Depends(get_session)]
EngineDep = Annotated[Engine, Depends(get_engine)]  # long-lived responses: no pooled session
RuntimeDep = Annotated[Runtime, Depends(get_runtime)]
CurrentUser = Annotated[Principal, Depends(require_auth)]
RootDep = Annotated[Path, Depends(get_root)]
