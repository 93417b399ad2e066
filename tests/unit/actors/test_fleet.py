"""`Fleet` without Ray: the desired-vs-running diff, heartbeat ownership, status persistence."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session

from iris import names
from iris.actors.config import CameraConfig
from iris.actors.fleet import PERSIST_EVERY_S, Fleet
from iris.db.engine import make_engine
from iris.db.tables import Camera
from iris.messages import CameraState
from iris.settings import load_settings
from tests.support.factories import camera_row


class FakeLauncher:
    """Records what the fleet starts and stops."""

    def __init__(self) -> None:
        self.log: list[tuple[str, int]] = []
        self.configs: dict[int, CameraConfig] = {}

    def start(self, config: CameraConfig) -> None:
        self.log.append(("start", config.camera_id))
        self.configs[config.camera_id] = config

    def stop(self, camera_id: int) -> None:
        self.log.append(("stop", camera_id))
        self.configs.pop(camera_id)


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def engine(tmp_path: Path) -> Engine:
    return make_engine(f"sqlite:///{tmp_path / 'iris.db'}")


@pytest.fixture
def launcher() -> FakeLauncher:
    return FakeLauncher()


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def fleet(tmp_path: Path, engine: Engine, launcher: FakeLauncher, clock: Clock) -> Fleet:
    return Fleet(engine, load_settings(data_dir=tmp_path), launcher, clock=clock,
                 wall=lambda: 1_700_000_000.0)


def add(engine: Engine, **fields: object) -> int:
    with Session(engine) as session:
        camera_id = camera_row(session, **fields).id
        session.commit()
    assert camera_id is not None
    return camera_id


def edit(engine: Engine, camera_id: int, **fields: object) -> None:
    with Session(engine) as session:
        camera = session.get(Camera, camera_id)
        assert camera is not None
        for key, value in fields.items():
            setattr(camera, key, value)
        session.add(camera)
        session.commit()


def row(engine: Engine, camera_id: int) -> Camera:
    with Session(engine) as session:
        camera = session.get(Camera, camera_id)
    assert camera is not None
    return camera


@pytest.fixture
def running(engine: Engine, fleet: Fleet) -> Iterator[int]:
    camera_id = add(engine, enabled=True)
    assert fleet.sync(camera_id) == "started"
    yield camera_id


def test_sync_starts_restarts_and_stops_to_match_the_row(
    engine: Engine, fleet: Fleet, launcher: FakeLauncher
) -> None:
    camera_id = add(engine, enabled=True, detect_conf=0.5)
    assert fleet.sync(camera_id) == "started"
    assert fleet.sync(camera_id) == "unchanged"
    assert launcher.configs[camera_id].detect_conf == 0.5
    edit(engine, camera_id, detect_conf=0.7)
    assert fleet.sync(camera_id) == "restarted"
    assert launcher.configs[camera_id].detect_conf == 0.7
    edit(engine, camera_id, enabled=False)
    assert fleet.sync(camera_id) == "stopped"
    assert fleet.sync(camera_id) == "unchanged"
    assert launcher.log == [("start", camera_id), ("stop", camera_id), ("start", camera_id),
                            ("stop", camera_id)]
    assert row(engine, camera_id).status == "offline"


def test_reconcile_starts_what_should_run_and_stops_what_is_gone(
    engine: Engine, fleet: Fleet, launcher: FakeLauncher, running: int
) -> None:
    on, off = add(engine, enabled=True), add(engine, enabled=False)
    with Session(engine) as session:
        camera = session.get(Camera, running)
        session.delete(camera)
        session.commit()
    assert fleet.reconcile() == [on]
    assert ("stop", running) in launcher.log and ("start", on) in launcher.log
    assert off not in launcher.configs
    assert fleet.workers() == {on: names.camera_actor(on)}


def test_a_new_worker_reads_connecting_until_its_first_heartbeat(
    fleet: Fleet, running: int
) -> None:
    state = fleet.states()[running]
    assert (state.status, state.name, state.last_seen) == ("connecting", "Door", 1_700_000_000.0)
    assert state.as_dict() == {"status": "connecting", "last_seen": 1_700_000_000.0, "fps": 0.0,
                               "detector": None, "reason": None, "name": "Door"}


def test_heartbeats_of_unowned_workers_are_refused(
    engine: Engine, fleet: Fleet, running: int
) -> None:
    beat = CameraState(status="online", last_seen=1.0, fps=25.0, frames_decoded=10, pid=7)
    assert fleet.heartbeat(running, beat)
    assert fleet.states()[running] == beat.named("Door")
    assert not fleet.heartbeat(running + 1, beat)
    assert running + 1 not in fleet.states()


def test_status_is_persisted_on_change_and_then_every_few_seconds(
    engine: Engine, fleet: Fleet, clock: Clock, running: int
) -> None:
    online = CameraState(status="online", last_seen=1.0)
    fleet.heartbeat(running, online)
    first_seen = row(engine, running).last_seen
    assert row(engine, running).status == "online" and first_seen is not None
    clock.now += PERSIST_EVERY_S / 2
    fleet.heartbeat(running, online)
    assert row(engine, running).last_seen == first_seen  # unchanged status: not written yet
    fleet.heartbeat(running, CameraState(status="error", last_seen=2.0, reason="refused"))
    assert (row(engine, running).status, row(engine, running).status_reason) == (
        "error", "refused")
    clock.now += PERSIST_EVERY_S
    fleet.heartbeat(running, online)
    later = row(engine, running).last_seen
    assert later is not None and later >= first_seen


def test_release_all_hands_over_every_worker_at_once(
    engine: Engine, fleet: Fleet, running: int
) -> None:
    other = add(engine, enabled=True)
    fleet.sync(other)
    released = fleet.release_all(lock_timeout_s=0.1)
    assert sorted(released) == [running, other]
    assert fleet.states() == {} and fleet.workers() == {}
    for camera_id, config in released.items():
        fleet.stopped(camera_id, config)
        assert row(engine, camera_id).status == "offline"
    assert not fleet.heartbeat(running, CameraState(status="online", last_seen=1.0))
