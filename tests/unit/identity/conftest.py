"""Fixtures of the identity tests: a real SQLite DB with two cameras, a data root, a core."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy.engine import Engine

from iris.db.engine import make_engine, session_scope
from iris.db.tables import Camera
from iris.identity import IdentityCore


@pytest.fixture()
def engine(tmp_path: Path) -> Engine:
    eng = make_engine(f"sqlite:///{tmp_path / 'iris.db'}")
    with session_scope(eng) as s:
        s.add_all([Camera(name="A", rtsp_url="rtsp://a"), Camera(name="B", rtsp_url="rtsp://b")])
    return eng


@pytest.fixture()
def root(tmp_path: Path) -> Path:
    return tmp_path / "data"


@pytest.fixture()
def core(engine: Engine, root: Path) -> IdentityCore:
    return IdentityCore(engine, root)
