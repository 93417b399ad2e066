"""Camera scope in the database: a scoped engine's sessions see only their cameras' rows."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.engine import Engine
from sqlmodel import Session, SQLModel, col

from iris.db.scope import CAMERA_COLUMNS, camera_scope, scoped_engine
from iris.db.tables import CAMERA_ROWS, Camera, Event, Identity, Sighting
from tests.support.factories import camera_row, event_row, identity_row, sighting_row


def test_every_table_with_a_camera_is_scoped() -> None:
    """Every table with a `camera_id` column (and the cameras) is camera-scoped, none other."""
    with_camera = {table.name for table in SQLModel.metadata.sorted_tables
                   if "camera_id" in table.columns}
    scoped = {model.__tablename__ for model in CAMERA_COLUMNS}  # type: ignore[attr-defined]
    assert with_camera | {"cameras"} == scoped


def test_camera_rows_come_before_the_rows_they_point_at() -> None:
    """The camera delete goes through `CAMERA_ROWS` in order: no table refers to an earlier one."""
    tables = [model.__table__ for model in CAMERA_ROWS]
    for index, table in enumerate(tables):
        later = {fk.column.table for t in tables[index + 1:] for fk in t.foreign_keys}
        assert table not in later, f"{table.name} is deleted before a table pointing at it"


def _two_cameras(engine: Engine) -> None:
    with Session(engine) as session:
        for name in ("A", "B"):
            camera = camera_row(session, name=name)
            assert camera.id is not None
            identity = identity_row(session)
            assert identity.id is not None
            event_row(session, camera_id=camera.id)
            sighting_row(session, identity_id=identity.id, camera_id=camera.id)
        session.commit()


def test_a_scoped_engine_sees_only_its_cameras_everywhere(engine: Engine) -> None:
    _two_cameras(engine)
    porch = scoped_engine(engine, frozenset({1}))
    assert camera_scope(porch) == {1} and camera_scope(engine) is None
    with Session(porch) as session:
        assert session.get(Camera, 2) is None and session.get(Camera, 1) is not None
        assert session.get(Event, 2) is None
        assert session.execute(select(func.count()).select_from(Event)).scalar_one() == 1
        assert list(session.execute(select(col(Identity.id))).scalars()) == [1]
        joined = select(col(Sighting.id)).join(Camera, col(Camera.id) == col(Sighting.camera_id))
        assert list(session.execute(joined).scalars()) == [1]
        inner = select(Sighting).subquery()
        assert list(session.execute(select(inner.c.camera_id)).scalars()) == [1]
    with Session(engine) as session:
        assert session.execute(select(func.count()).select_from(Event)).scalar_one() == 2


def test_an_unlimited_scope_is_the_engine_itself(engine: Engine) -> None:
    assert scoped_engine(engine, None) is engine
