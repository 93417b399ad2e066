"""Engine and sessions: SQLite (WAL, busy timeout, foreign keys) by default, PostgreSQL by URL."""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import Column, Table, event, inspect, text
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.exc import IntegrityError, OperationalError, ProgrammingError
from sqlmodel import Session, SQLModel, create_engine

from iris.db import tables  # noqa: F401  (registers the tables on SQLModel.metadata)

SQLITE_BUSY_TIMEOUT_MS = 10_000

ROUTE_THREADS = 40
"""Worker threads FastAPI's sync routes share in one process (anyio's default limit)."""
ROUTE_SESSIONS = 10
"""Route sessions (`iris.serve.deps.SessionDep`) open at once in one process."""
POOL_SIZE = 5
POOL_OVERFLOW = ROUTE_THREADS + ROUTE_SESSIONS - POOL_SIZE
"""Connections beyond `POOL_SIZE`, opened under load and closed after: enough for every route
thread and every route session at once. A route session keeps its connection until the answer
is serialised, which needs a thread; were connections fewer than both, each side could wait on
the other until the pool's timeout."""


def connect(url: str) -> Engine:
    """An engine over an existing schema; SQLite gets WAL, a busy timeout and enforced FKs.

    Processes of a running Iris (camera actors, the ingress, the managers) connect: the schema
    was created and upgraded once at start-up (`make_engine` in the runner), so they never race
    on DDL.
    """
    parsed = make_url(url)
    kwargs: dict[str, Any] = {"pool_pre_ping": True}
    in_memory = parsed.get_backend_name() == "sqlite" and parsed.database in (None, "", ":memory:")
    if not in_memory:  # one connection, shared, in memory: no pool to size
        kwargs.update(pool_size=POOL_SIZE, max_overflow=POOL_OVERFLOW)
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and not in_memory:
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        kwargs["connect_args"] = {"check_same_thread": False, "timeout": 10}
    engine = create_engine(url, **kwargs)
    if parsed.get_backend_name() == "sqlite":
        event.listen(engine, "connect", _sqlite_pragmas)
    return engine


def make_engine(url: str) -> Engine:
    """An engine with the schema created or upgraded: start-up, tools and tests."""
    engine = connect(url)
    create_schema(engine)
    return engine


class SchemaUpgradeError(RuntimeError):
    """The database lacks a column that cannot be added in place (it is NOT NULL)."""


def create_schema(engine: Engine, attempts: int = 5) -> None:
    """Create missing tables, then add missing nullable columns and indexes to existing ones.

    There is no migration framework: a column added to a table later must be nullable or have
    a server default, and an older database gets it (and any index that names it) here.
    Several processes may race here (every camera opens the database at start), so each step
    looks again when it loses.
    """
    for attempt in range(attempts):
        try:
            SQLModel.metadata.create_all(engine)
            add_missing_columns(engine)
            return
        except (OperationalError, ProgrammingError, IntegrityError) as exc:
            # Another process created a table, column or index between our look and our
            # CREATE/ALTER ("already exists", SQLite's "duplicate column name"): look again.
            message = str(exc).lower()
            if attempt == attempts - 1 or ("exist" not in message and "duplicate" not in message):
                raise
            time.sleep(0.05 * (attempt + 1))


def add_missing_columns(engine: Engine) -> list[str]:
    """ALTER TABLE … ADD COLUMN for each column an existing table lacks, then indexes.

    A nullable column is added empty; a NOT NULL one with a server default is added with it
    (existing rows take the default). Returns the `table.column` names added. Raises
    `SchemaUpgradeError` for a missing NOT NULL column without a default, which no in-place
    step can add to rows that already exist.
    """
    added: list[str] = []
    inspector = inspect(engine)
    existing_tables = set(inspector.get_table_names())
    quote = engine.dialect.identifier_preparer.quote
    for table in SQLModel.metadata.sorted_tables:
        if table.name not in existing_tables:
            continue
        present = {column["name"] for column in inspector.get_columns(table.name)}
        missing = [column for column in table.columns if column.name not in present]
        for column in missing:
            default = _server_default(column)
            if not column.nullable and default is None:
                raise SchemaUpgradeError(
                    f"table {table.name} lacks column {column.name}, which is NOT NULL: it "
                    "cannot be added in place; recreate the database or migrate it by hand")
            kind = column.type.compile(dialect=engine.dialect)
            tail = "" if default is None else f" NOT NULL DEFAULT {default}"
            with engine.begin() as connection:
                connection.execute(text(f"ALTER TABLE {quote(table.name)} "
                                        f"ADD COLUMN {quote(column.name)} {kind}{tail}"))
            added.append(f"{table.name}.{column.name}")
        indexes = {index["name"] for index in inspector.get_indexes(table.name)}
        _create_missing_indexes(engine, table, indexes)
    return added


def _server_default(column: Column[Any]) -> str | None:
    """The SQL literal of a column's plain server default (`server_default="7"`), if any."""
    default = column.server_default
    arg = getattr(default, "arg", None)
    if arg is None:
        return None
    value = arg.text if hasattr(arg, "text") else str(arg)
    # Only plain numbers and words: a literal we can put into DDL as it is.
    return value if value.replace(".", "", 1).replace("-", "", 1).isalnum() else None


def _create_missing_indexes(engine: Engine, table: Table, present: set[str | None]) -> None:
    # create_all builds indexes only together with their table: later ones come here.
    for index in table.indexes:
        if index.name not in present:
            index.create(engine, checkfirst=True)


def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
    cursor = dbapi_conn.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


@contextmanager
def session_scope(engine: Engine) -> Iterator[Session]:
    """A session that commits on success and rolls back on error."""
    with Session(engine, expire_on_commit=False) as session:
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise
