"""IdentityManager (`iris.names.IDENTITY_MANAGER`): the singleton actor holding the galleries.

A thin shell: `IdentityCore` (iris/identity/core.py) does the work; this wires it to a
DB engine, rebuilds the galleries from the DB on (re)start and runs maintenance on a timer.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Sequence
from typing import Any

import ray

from iris.db.engine import connect
from iris.identity import Assignment, IdentityCore, OpResult
from iris.settings import Settings
from iris.types import Observation

log = logging.getLogger("iris.identity")

MAINTENANCE_S = 60.0


@ray.remote(num_cpus=0, max_restarts=-1, max_task_retries=-1,  # type: ignore[call-overload]
            max_concurrency=16)
class IdentityManager:
    """Sightings in, identities out; operator corrections; gallery rebuilt from the DB."""

    def __init__(self, settings: Settings) -> None:
        self._core = IdentityCore(connect(settings.resolved_database_url), settings.root)
        stats = self._core.rebuild_from_db()
        log.info("identity galleries rebuilt from the DB: %s", stats)
        self._stop = threading.Event()
        self.sightings = 0
        threading.Thread(target=self._maintenance_loop, name="maintenance", daemon=True).start()

    def _maintenance_loop(self) -> None:
        while not self._stop.wait(MAINTENANCE_S):
            try:
                merged = [r for r in self._core.maintenance() if r.ok]
                if merged:
                    log.info("maintenance merged %d identities", len(merged))
            except Exception as exc:  # noqa: BLE001 - next round retries
                log.warning("identity maintenance failed: %s", exc)

    def assign(self, observation: Observation) -> Assignment:
        self.sightings += 1
        return self._core.assign(observation)

    def merge(self, target_id: int, source_ids: Sequence[int]) -> OpResult:
        return self._core.merge(target_id, list(source_ids))

    def split(self, identity_id: int, sighting_ids: Sequence[int] | None = None,
              auto: bool = False, new_name: str | None = None) -> OpResult:
        return self._core.split(identity_id, sighting_ids=sighting_ids, auto=auto,
                                new_name=new_name)

    def delete(self, identity_ids: Sequence[int]) -> OpResult:
        return self._core.delete(list(identity_ids))

    def rebuild(self) -> dict[str, int]:
        """Reload every gallery from the DB (after writes made outside this actor)."""
        return self._core.rebuild_from_db()

    def reload_people(self) -> int:
        return self._core.reload_people()

    def stats(self) -> dict[str, Any]:
        return {**self._core.stats(), "sightings_assigned": self.sightings}

    def nearest(self, kind: str, vector: Any, k: int = 5) -> list[tuple[int, float]]:
        return self._core.nearest(kind, vector, k)
