"""Camera scope: a principal limited to some cameras reads only their rows, in every query.

The scope travels with the engine a request gets (`scoped_engine`, an engine option: the same
pool), and one ORM hook adds `camera_id IN (…)` to every SELECT of a camera-scoped table that
a session on that engine runs — `session.get`, counts, joins and subqueries included. So a
route, a data function or a long-lived stream that opens `Session(engine)` is filtered without
knowing about scopes, a row of another camera reads as missing (its 404 is the missing row's),
and a new query cannot forget the filter. An identity is visible when one of its sightings is.

Writes are not filtered: a scoped principal is always a viewer (`iris.serve.access`), and
viewers cannot write. No Ray, no FastAPI.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy import ColumnElement, event, select
from sqlalchemy.engine import Engine
from sqlalchemy.orm import ORMExecuteState, Session, with_loader_criteria
from sqlmodel import col

from iris.db.tables import CAMERA_ROWS, Camera, Identity, Sighting

SCOPE_OPTION = "iris_camera_scope"
"""The engine execution option holding the cameras a request may see (a frozenset of ids)."""

CameraScope = frozenset[int] | None
"""The cameras a principal may see; None: every camera."""

CAMERA_COLUMNS: dict[Any, Any] = {Camera: Camera.id} | {
    model: model.camera_id for model in CAMERA_ROWS}
"""Every camera-scoped table (the cameras themselves included) and the column naming its camera."""


def scoped_engine(engine: Engine, cameras: CameraScope) -> Engine:
    """`engine` as a principal limited to `cameras` uses it (itself when unlimited)."""
    if cameras is None:
        return engine
    return engine.execution_options(**{SCOPE_OPTION: frozenset(cameras)})


def camera_scope(engine: Engine) -> CameraScope:
    """The cameras an engine from `scoped_engine` may see; None for an unlimited one."""
    scope = engine.get_execution_options().get(SCOPE_OPTION)
    return frozenset(scope) if scope is not None else None


def visible(cameras: CameraScope, camera_id: int) -> bool:
    """Whether a principal limited to `cameras` may see camera `camera_id`."""
    return cameras is None or camera_id in cameras


def scope_criteria(cameras: Iterable[int]) -> list[Any]:
    """The loader criteria that limit every camera-scoped table (and identities) to `cameras`."""
    ids = sorted(cameras)
    options: list[Any] = [
        with_loader_criteria(table, _in(column, ids), include_aliases=True)
        for table, column in CAMERA_COLUMNS.items()
    ]
    seen_on = select(col(Sighting.identity_id)).where(col(Sighting.camera_id).in_(ids))
    options.append(with_loader_criteria(Identity, col(Identity.id).in_(seen_on),
                                        include_aliases=True))
    return options


def _in(column: Any, ids: list[int]) -> ColumnElement[bool]:
    return col(column).in_(ids)


@event.listens_for(Session, "do_orm_execute")
def _limit_to_scope(state: ORMExecuteState) -> None:
    if not state.is_select or state.is_column_load or state.is_relationship_load:
        return
    bind = state.session.bind
    if not isinstance(bind, Engine):
        return
    cameras = camera_scope(bind)
    if cameras is not None:
        state.statement = state.statement.options(*scope_criteria(cameras))
