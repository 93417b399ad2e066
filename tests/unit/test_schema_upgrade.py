"""A database made by an older schema gains the new nullable columns and indexes at start-up."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import create_engine, inspect, text
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session

from iris.db.engine import SchemaUpgradeError, make_engine
from iris.db.tables import DEFAULT_CONTINUOUS_DAYS, Camera, Event

T0 = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)
NEW_INDEX = "ux_events_camera_manual_start"
REVIEW_INDEX = "ix_events_reviewed_camera"
REVIEW_COLUMNS = ("zones", "severity", "reviewed")
ZONE_COLUMNS = ("motion_masks", "zones", "required_zones", "object_filters")
PG_URL = os.environ.get("IRIS_TEST_DATABASE_URL", "")


def downgrade(engine: Engine) -> None:
    """Turn today's tables back into those of the schema before manual_started_at and the
    recording store (no clip range on events, no continuous_days, no recording tables)."""
    with engine.begin() as connection:
        connection.execute(text(f"DROP INDEX {NEW_INDEX}"))
        connection.execute(text(f"DROP INDEX {REVIEW_INDEX}"))
        for column in ("manual_started_at", "clip_start", "clip_end", *REVIEW_COLUMNS):
            connection.execute(text(f"ALTER TABLE events DROP COLUMN {column}"))
        for column in ("continuous_days", *ZONE_COLUMNS):
            connection.execute(text(f"ALTER TABLE cameras DROP COLUMN {column}"))
        connection.execute(text("DROP TABLE recording_segments"))
        connection.execute(text("DROP TABLE recording_gaps"))


def old_database(url: str) -> int:
    """An old-schema database holding one camera and one event; returns the event id."""
    engine = make_engine(url)
    downgrade(engine)
    with engine.begin() as connection:
        connection.execute(text(
            "INSERT INTO cameras (name, rtsp_url, enabled, status, detect_conf, pre_seconds, "
            "post_seconds, trigger_classes, detect_iou, detect_imgsz, detect_interval, "
            "trigger_cooldown, min_trigger_frames, rtsp_transport, faces_enabled, reid_enabled, "
            "retention_days, created_at, updated_at) VALUES ('old', 'rtsp://h/s', true, "
            "'offline', 0.5, 5, 10, 'person', 0.45, 320, 0.2, 5, 3, 'tcp', true, true, 30, "
            ":t, :t)"), {"t": T0.replace(tzinfo=None)})
        camera_id = connection.execute(text("SELECT max(id) FROM cameras")).scalar_one()
        event_id = connection.execute(text(
            "INSERT INTO events (camera_id, kind, label, ts, in_progress, created_at) "
            "VALUES (:c, 'track', 'person', :t, false, :t) RETURNING id"),
            {"c": camera_id, "t": T0.replace(tzinfo=None)}).scalar_one()
    assert "manual_started_at" not in columns(engine)
    engine.dispose()
    return int(event_id)


def columns(engine: Engine) -> set[str]:
    return {column["name"] for column in inspect(engine).get_columns("events")}


def check_upgraded(url: str, event_id: int) -> None:
    engine = make_engine(url)  # what every process does at start
    try:
        assert {"manual_started_at", "clip_start", "clip_end"} <= columns(engine)
        assert {NEW_INDEX, REVIEW_INDEX} <= {
            index["name"] for index in inspect(engine).get_indexes("events")}
        assert set(REVIEW_COLUMNS) <= columns(engine)
        assert {"recording_segments", "recording_gaps"} <= set(inspect(engine).get_table_names())
        with Session(engine) as session:
            old = session.get(Event, event_id)
            assert old is not None and old.manual_started_at is None
            assert old.clip_start is None  # an event from before the store: no range
            # Before review: not reviewed (server default), no zones, severity read as alert.
            assert old.reviewed is False and old.zones is None and old.severity is None
            camera_id = old.camera_id
            camera = session.get(Camera, camera_id)
            # A NOT NULL column with a server default: the old row takes the default.
            assert camera is not None and camera.continuous_days == DEFAULT_CONTINUOUS_DAYS
            assert camera.zones is None and camera.object_filters is None  # read as none
            # The upgraded table enforces one manual recording per (camera, started_at).
            for _ in range(2):
                session.add(Event(camera_id=camera_id, kind="manual", ts=T0,
                                  manual_started_at=T0))
            with pytest.raises(IntegrityError):
                session.commit()
        make_engine(url).dispose()  # and again: the upgrade is idempotent
    finally:
        engine.dispose()


def test_old_sqlite_database_gets_new_columns_and_indexes(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'old.db'}"
    check_upgraded(url, old_database(url))


@pytest.fixture
def scratch_postgres() -> Iterator[str]:
    """A throwaway PostgreSQL database beside the test one (the role may create databases)."""
    if not PG_URL:
        pytest.skip("IRIS_TEST_DATABASE_URL not set (make test starts PostgreSQL)")
    name = f"iris_upgrade_{uuid.uuid4().hex[:12]}"
    admin = create_engine(PG_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield make_url(PG_URL).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def test_old_postgres_database_gets_new_columns_and_indexes(scratch_postgres: str) -> None:
    check_upgraded(scratch_postgres, old_database(scratch_postgres))


def test_missing_not_null_column_is_refused_with_its_name(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'old.db'}"
    engine = make_engine(url)
    with engine.begin() as connection:
        connection.execute(text("ALTER TABLE cameras DROP COLUMN retention_days"))
    engine.dispose()
    with pytest.raises(SchemaUpgradeError, match="cameras lacks column retention_days"):
        make_engine(url)


def test_fresh_database_needs_no_upgrade(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'new.db'}")
    with Session(engine) as session:
        session.add(Camera(name="c", rtsp_url="rtsp://h/s"))
        session.commit()
    assert "manual_started_at" in columns(engine)
